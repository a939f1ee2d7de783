-- expect: memory  (tables of tables until memory is gone)
function act(ctx)
  local t = {}
  for i = 1, 1e9 do t[i] = {i, i, i, i} end
end
