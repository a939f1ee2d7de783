-- expect: bad_result  (wraps an integer and hands it back as an intent)
function act(ctx) ctx.thrust_x[1] = math.maxinteger + 1 end
