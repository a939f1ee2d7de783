-- expect: memory  (string.char and utf8.char of a hundred thousand arguments)
-- neon: instructions
local function bomb()
  local t = {}
  for i = 1, 100000 do t[i] = 0 end
  local s = string.char(table.unpack(t))
  local u = utf8.char(table.unpack(t))
end
function act(ctx) bomb() end
function on_event(e) bomb() end
