-- expect: runtime  (an error object whose __tostring would loop in the host)
function act(ctx)
  error(setmetatable({}, {__tostring = function() while true do end end}))
end
