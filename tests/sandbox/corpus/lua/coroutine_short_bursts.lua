-- expect: objects  (many coroutines, each running less than one hook interval: each is paid for and counted)
function act(ctx)
  while true do
    coroutine.wrap(function() for i = 1, 400 do end end)()
  end
end
