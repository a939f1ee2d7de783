-- expect: instructions  (resume returns the budget error as a value; loop on it)
function act(ctx)
  while true do
    local co = coroutine.create(function() while true do end end)
    coroutine.resume(co)
  end
end
