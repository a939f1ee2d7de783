-- expect: escape  (io spelled so the static check cannot see it)
function act(ctx) return _G['i' .. 'o'].open('/etc/passwd') end
