-- expect: runtime  (integer modulo by zero)
function act(ctx) return ctx.n % 0 end
