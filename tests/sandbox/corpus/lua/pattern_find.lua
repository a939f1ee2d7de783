-- expect: wall_clock  (a backtracking pattern that would run for minutes in one C call)
function act(ctx) return string.find(string.rep('a', 10000), '.-.-.-b') end
