-- expect: instructions  (pcall around the loop tries to swallow the budget error)
function act(ctx)
  while true do pcall(function() while true do end end) end
end
