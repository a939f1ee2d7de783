-- expect: instructions  (tonumber on the longest string of digits, for ever)
local function bomb()
  local s = string.rep("7", 60000)
  while true do local _ = tonumber(s); local _ = tonumber(s, 10) end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
