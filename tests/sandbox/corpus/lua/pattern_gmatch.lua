-- expect: wall_clock  (the same through gmatch)
function act(ctx) for m in string.gmatch(string.rep('a', 5000), '(.-)(.-)b') do end end
