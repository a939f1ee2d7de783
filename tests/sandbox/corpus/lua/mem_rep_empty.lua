-- expect: memory  (an empty string 2^40 times: no bytes, but a C loop of 2^40 steps)
function act(ctx) local s = string.rep("", 1 << 40) end
