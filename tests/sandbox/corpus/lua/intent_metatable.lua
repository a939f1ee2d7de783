-- expect: instructions  (an __index on the intent array that loops when the host reads it)
function act(ctx)
  local t = ctx.thrust_x
  t[1] = nil
  setmetatable(t, {__index = function() while true do end end})
end
