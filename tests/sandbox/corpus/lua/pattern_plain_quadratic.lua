-- expect: wall_clock  (a quadratic plain search)
function act(ctx)
  return string.find(string.rep('a', 1 << 20), string.rep('a', 1 << 12) .. 'b', 1, true)
end
