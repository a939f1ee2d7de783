-- expect: syntax  (does not compile)
function act(ctx) return ( end
