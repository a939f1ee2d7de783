-- expect: instructions  (sorting many copies of the longest string: each comparison reads it all, in C)
function act(ctx)
  local s, t = string.rep("x", 60000), {}
  for i = 1, 1 << 16 do t[i] = s end
  table.sort(t)
end
