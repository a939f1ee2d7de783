-- expect: instructions  (each s:upper() is three instructions and a copy of the longest string in C)
function act(ctx)
  local s = string.rep("x", 60000)
  while true do local u = s:upper() end
end
