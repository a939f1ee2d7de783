-- expect: runtime  (a huge format width)
function act(ctx) log(string.format('%099999d', 1)) end
