-- expect: memory  (tonumber on a 16 MiB string of digits)
local function bomb()
  local s = "1"
  for i = 1, 24 do s = s .. s end
  while true do local _ = tonumber(s) end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
