-- expect: forbidden_name  (asks load for binary mode)
-- runtime: escape  (what the runtime alone says when the static checks are skipped)
function act(ctx) return load('return 1', 'x', 'b') end
