-- expect: forbidden_name  (python.eval in plain sight)
-- runtime: escape  (what the runtime alone says when the static checks are skipped)
function act(ctx) return python.eval('1') end
