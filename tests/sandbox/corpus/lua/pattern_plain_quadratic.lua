-- expect: wall_clock  (a quadratic plain search)
function act(ctx)
  return string.find(string.rep('a', 60000), string.rep('a', 2000) .. 'b', 1, true)
end
