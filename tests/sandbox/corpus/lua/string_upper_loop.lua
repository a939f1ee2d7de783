-- expect: instructions  (each s:upper() is three instructions and a 12 MB copy in C)
function act(ctx)
  local s = string.rep("x", 4 << 20)
  s = s .. s .. s
  while true do local u = s:upper() end
end
