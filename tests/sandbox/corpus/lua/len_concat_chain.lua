-- expect: memory  (one chain of .. whose parts are each under the cap and the whole over it)
local function bomb()
  local a = string.rep("\0", 40000)
  local s = a .. a .. a .. a .. a .. a
  while true do local _ = s < s .. "" end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
