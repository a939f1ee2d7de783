-- expect: memory  (one string.rep of a gigabyte)
function act(ctx) local s = string.rep('x', 1 << 30) end
