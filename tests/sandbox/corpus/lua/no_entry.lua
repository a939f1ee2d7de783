-- expect: contract  (defines nothing the host can call)
local x = 1
