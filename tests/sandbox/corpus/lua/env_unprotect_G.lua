-- expect: runtime  (tries to remove the environment's guard)
function act(ctx) setmetatable(_G, nil) end
