-- expect: memory  (string.format that repeats its argument)
local function bomb()
  local s = string.rep("\0", 30000)
  while true do s = string.format("%s%s%s", s, s, s) end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
