-- expect: forbidden_name  (a new _ENV that looks things up elsewhere finds nothing)
-- runtime: runtime  (what the runtime alone says when the static checks are skipped)
function act(ctx)
  local _ENV = setmetatable({}, {__index = function(t, k) return rawget(_G, k) end})
  return io.open('/etc/passwd')
end
