-- expect: recursion  (coroutines resuming coroutines, ever deeper)
local function dive() local co = coroutine.wrap(dive) return co() end
function act(ctx) dive() end
