-- expect: forbidden_name  (debug.getregistry in plain sight)
-- runtime: escape  (what the runtime alone says when the static checks are skipped)
function act(ctx) return debug.getregistry() end
