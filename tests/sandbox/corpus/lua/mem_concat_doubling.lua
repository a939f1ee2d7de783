-- expect: memory  (doubling a string by concatenation)
function act(ctx)
  local s = 'x'
  while true do s = s .. s end
end
