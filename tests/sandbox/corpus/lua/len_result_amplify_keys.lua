-- expect: output  (a result whose size is in its keys and nested tables, not its item count)
-- neon: bad_result
local function refs()
  local s = string.rep("k", 60000)
  local inner = {[s] = s}
  local t = {}
  for i = 1, 50 do t[i] = inner end
  return t
end
function act(ctx) local s = string.rep("k", 60000) intent.say(0, s) intent.say(0, s) end
function on_event(e) return refs() end
