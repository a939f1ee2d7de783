-- expect: instructions  (table.move over a trillion indices in one C call)
function act(ctx) table.move({}, 1, 1e12, 1) end
