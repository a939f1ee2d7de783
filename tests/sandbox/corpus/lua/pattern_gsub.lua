-- expect: wall_clock  (the same through gsub)
function act(ctx) return (string.rep('a', 5000)):gsub('a*a*b', '') end
