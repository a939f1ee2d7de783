-- expect: escape  (builds a bytecode header at run time and loads it)
function act(ctx) return load(string.char(27) .. 'LuaT\0') end
