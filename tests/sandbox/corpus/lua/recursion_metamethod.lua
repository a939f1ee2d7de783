-- expect: recursion  (recursion through an __index metamethod)
function act(ctx)
  local t = setmetatable({}, {})
  getmetatable(t).__index = function(s, k) return s[k + 1] end
  return t[1]
end
