-- expect: bad_result  (a fractional thrust)
function act(ctx) ctx.thrust_x[1] = 0.5 end
