-- expect: wall_clock  (sorts a table too large for one C call)
function act(ctx)
  local t = {}
  for i = 1, 1e6 do t[i] = -i end
  table.sort(t)
end
