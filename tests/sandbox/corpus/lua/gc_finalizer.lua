-- expect: escape  (a __gc finalizer would run outside any budget)
function act(ctx)
  setmetatable({}, {__gc = function() while true do end end})
end
