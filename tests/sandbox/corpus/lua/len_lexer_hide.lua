-- expect: memory  (.. hidden behind escapes, long brackets, comments and numerals)
local function bomb()
  local s = "\"\\" .. [==[]]..]=]..]==] .. '\z
     \'' .. 0x1e+1 .. --[[ .. ]] "\0"
  while true do s = s--[=[ ]]
  ]=].. --x..
  s end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
