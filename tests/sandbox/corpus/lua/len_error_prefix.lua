-- expect: wall_clock  (an error message that grows by its position every time it is raised)
-- neon: instructions
local function bomb()
  local s = string.rep("\0", 65530)
  local t = s
  while true do
    local ok, e = pcall(function() error(s) end)
    s = e
    local _ = s < t
    local _ = s < t
  end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
