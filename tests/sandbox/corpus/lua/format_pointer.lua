-- expect: runtime  (%p would leak an address into the world)
function act(ctx) log(string.format('%p', {})) end
