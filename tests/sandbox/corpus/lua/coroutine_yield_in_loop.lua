-- expect: instructions|wall_clock  (an endless producer consumed forever)
function act(ctx)
  local gen = coroutine.wrap(function() while true do coroutine.yield(1) end end)
  while true do gen() end
end
