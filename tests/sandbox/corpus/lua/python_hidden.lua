-- expect: escape  (python spelled so the static check cannot see it)
function act(ctx) return _G['py' .. 'thon'].builtins end
