-- expect: recursion  (recursion through pcall, which catches the overflow)
local function f() pcall(f) return f() end
function act(ctx) f() end
