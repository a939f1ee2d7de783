-- expect: wall_clock|instructions  (gsub at every byte: charged per byte, so a fast machine spends the
-- instruction budget before the 1 s clock; either way the call stops within 2x its budget)
-- neon: instructions
local function bomb()
  local s, t = string.rep("\0", 60000), {}
  while true do local _ = s:gsub(".", t); local _ = s:gsub(".", "%0") end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
