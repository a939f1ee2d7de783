-- expect: wall_clock  (< between two strings of NULs as long as the cap allows, for ever)
local function bomb()
  local a = string.rep("\0", 60000)
  local b = string.rep("\0", 60000)
  while true do
    local _ = a < b; local _ = a <= b; local _ = b > a; local _ = b >= a
  end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
