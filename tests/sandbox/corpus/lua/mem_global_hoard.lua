-- expect: memory  (hoards memory in a global at load time)
hoard = {}
for i = 1, 1e8 do hoard[i] = string.rep('x', 1 << 16) .. i end
function act(ctx) end
