-- expect: runtime  (integer division by zero is an error, not a crash)
function act(ctx) return 1 // (ctx.n - ctx.n) end
