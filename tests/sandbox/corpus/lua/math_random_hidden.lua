-- expect: escape  (math.random would break determinism)
function act(ctx) return math['ran' .. 'dom']() end
