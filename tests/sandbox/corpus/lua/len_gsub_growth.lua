-- expect: memory  (gsub that makes each byte four)
local function bomb()
  local s = string.rep("\0", 60000)
  while true do s = s:gsub(".", "%0%0%0%0") end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
