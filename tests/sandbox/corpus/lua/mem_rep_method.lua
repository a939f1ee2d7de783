-- expect: memory  (string.rep reached as a method of a string)
function act(ctx) local s = ('xy'):rep(1 << 40) end
