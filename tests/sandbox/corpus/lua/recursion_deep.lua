-- expect: recursion  (unbounded recursion)
local function f(n) return 1 + f(n + 1) end
function act(ctx) return f(1) end
