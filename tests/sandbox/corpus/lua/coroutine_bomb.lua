-- expect: objects  (create coroutines until the host runs out)
function act(ctx)
  local keep = {}
  for i = 1, 1e7 do keep[i] = coroutine.create(function() end) end
end
