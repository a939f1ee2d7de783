-- expect: instructions  (repeat-until that never ends)
function act(ctx) repeat local x = 1 until false end
