-- expect: escape  (reaches os from inside a loaded chunk)
function act(ctx) return load('return ' .. 'o' .. 's')().time() end
