-- expect: instructions  (table.concat over a trillion indices)
function act(ctx) return table.concat(setmetatable({}, {__index = function() return '' end}), '', 1, 1e12) end
