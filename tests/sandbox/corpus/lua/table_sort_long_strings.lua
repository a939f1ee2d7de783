-- expect: instructions  (sorting many copies of a 4 MB string: each comparison reads it all, in C)
function act(ctx)
  local s, t = string.rep("x", 4 << 20), {}
  for i = 1, 1 << 16 do t[i] = s end
  table.sort(t)
end
