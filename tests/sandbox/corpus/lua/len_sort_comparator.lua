-- expect: instructions|wall_clock  (table.sort with a Lua comparator that compares long strings of NULs)
local function bomb()
  local s, t = string.rep("\0", 60000), {}
  for i = 1, 64 do t[i] = s end
  while true do table.sort(t, function(a, b) return a < b end) end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
