-- expect: runtime  (rawget on _G finds no os)
function act(ctx) return rawget(_G, 'o' .. 's').execute('id') end
