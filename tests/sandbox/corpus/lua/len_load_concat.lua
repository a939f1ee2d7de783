-- expect: memory  (doubling by .. inside a chunk the script loads at run time)
local function bomb()
  local f = load("local s = ... while true do s = s .. s end")
  f(string.rep("\0", 1000))
end
function act(ctx) bomb() end
function on_event(e) bomb() end
