-- expect: bad_result  (a string where an integer belongs)
function act(ctx) ctx.thrust_y[1] = 'north' end
