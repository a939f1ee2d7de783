-- expect: wall_clock  (a __len that claims 2^63 items makes table.remove's C loop endless)
function act(ctx)
  local t = setmetatable({}, {__len = function() return math.maxinteger end})
  table.remove(t, 1)
end
