-- expect: instructions  (a plain endless loop)
function act(ctx) while true do end end
