-- expect: output  (600 references to one long string: each would be converted on its own)
-- neon: bad_result
local function refs()
  local s = string.rep("z", 60000)
  local t = {}
  for i = 1, 600 do t[i] = s end
  return t
end
function act(ctx) log(table.unpack(refs())) end
function on_event(e) return refs() end
