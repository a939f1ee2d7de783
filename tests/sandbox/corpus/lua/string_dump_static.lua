-- expect: forbidden_name  (string.dump in plain sight)
-- runtime: escape  (what the runtime alone says when the static checks are skipped)
function act(ctx) return string.dump(act) end
