-- expect: escape  (attribute access on what the host passed in)
function act(ctx) return ctx.__class__ end
