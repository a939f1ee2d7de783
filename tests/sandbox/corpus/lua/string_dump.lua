-- expect: escape  (string.dump spelled so the static check cannot see it)
function act(ctx) return string['du' .. 'mp'](act) end
