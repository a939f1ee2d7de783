-- expect: instructions  (the endless loop runs at load time, before act exists)
while true do end
function act(ctx) end
