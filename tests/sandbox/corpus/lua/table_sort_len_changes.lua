-- expect: wall_clock  (__len says 1 to the wrapper, 2^31 to the C sort; a C comparator runs no hook)
function act(ctx)
  local calls = 0
  local t = setmetatable({}, {__len = function()
    calls = calls + 1
    if calls == 1 then return 1 end
    return (1 << 31) - 10
  end})
  table.sort(t, math.type)
end
