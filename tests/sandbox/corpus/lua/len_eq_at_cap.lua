-- expect: wall_clock  (== on distinct strings as long as the cap allows, for ever)
-- neon: instructions
local function bomb()
  local b, c = string.rep("x", 60000) .. "b", string.rep("x", 60000) .. "c"
  while true do local _ = b == c; local _ = b ~= c; local _ = b == c; local _ = b ~= c end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
