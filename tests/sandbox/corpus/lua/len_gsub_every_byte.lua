-- expect: wall_clock  (gsub with a match and a replacement at every byte of the longest string)
-- neon: instructions
local function bomb()
  local s, t = string.rep("\0", 60000), {}
  while true do local _ = s:gsub(".", t); local _ = s:gsub(".", "%0") end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
