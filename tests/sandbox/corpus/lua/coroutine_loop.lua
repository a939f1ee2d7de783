-- expect: instructions  (the loop hides inside a coroutine, which has a hook of its own)
function act(ctx)
  coroutine.wrap(function() while true do end end)()
end
