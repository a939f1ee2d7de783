-- expect: instructions  (inserts at the front of an ever longer table)
function act(ctx)
  local t = {}
  for i = 1, 1e6 do t[i] = i end
  while true do table.insert(t, 1, 0) table.remove(t) end
end
