-- expect: memory  (== on long distinct strings: two 16 MiB strings that differ in the last byte)
local function bomb()
  local a = string.rep("x", 1 << 12)
  for i = 1, 12 do a = a .. a end
  local b, c = a .. "b", a .. "c"
  while true do local _ = b == c end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
