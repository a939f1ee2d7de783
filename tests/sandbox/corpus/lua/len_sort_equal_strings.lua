-- expect: instructions  (table.sort of long equal strings of NULs: every comparison reads both)
local function bomb()
  local s, t = string.rep("\0", 60000), {}
  for i = 1, 2000 do t[i] = s end
  while true do table.sort(t) end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
