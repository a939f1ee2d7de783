-- expect: wall_clock  (an __index chain two thousand tables deep: every item concat reads walks it in C)
function act(ctx)
  local t = {}
  for i = 1, 1999 do t = setmetatable({}, {__index = t}) end
  return table.concat(t, "", 1, 100000)
end
