-- expect: instructions  (the xpcall message handler loops when the budget error arrives)
function act(ctx)
  xpcall(function() while true do end end, function(e) while true do end end)
  while true do end
end
