-- expect: runtime  (a reader function instead of text)
function act(ctx) return load(function() return nil end) end
