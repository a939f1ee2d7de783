-- expect: memory  (two 16 MiB strings of NULs compared with <: strcoll per byte, one instruction each)
local function bomb()
  local a = string.rep("\0", 1 << 10)
  for i = 1, 14 do a = a .. a end
  local b = a .. ""
  while true do local _ = a < b end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
