-- expect: runtime  (looks for the host's functions through ctx's metatable)
function act(ctx) return getmetatable(ctx).__index end
