-- expect: instructions  (a __close handler that never returns)
function act(ctx)
  local x <close> = setmetatable({}, {__close = function() while true do end end})
end
