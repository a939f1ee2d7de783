-- expect: bad_result  (a hole in the intent array)
function act(ctx) ctx.energy_gain[1] = nil end
