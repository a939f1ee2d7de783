-- expect: memory  (string.pack pads a 'c' field byte by byte in C)
local function bomb() return string.pack("c1000000000", "") end
function act(ctx) bomb() end
function on_event(e) bomb() end
