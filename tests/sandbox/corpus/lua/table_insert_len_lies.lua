-- expect: wall_clock  (a __len of 2^62: table.insert would shift that many items in one C call)
function act(ctx)
  local t = setmetatable({}, {__len = function() return 1 << 62 end})
  table.insert(t, 1, 0)
end
