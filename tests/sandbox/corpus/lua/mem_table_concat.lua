-- expect: memory  (table.concat of many large strings)
function act(ctx)
  local part, parts = string.rep('x', 1 << 15), {}
  for i = 1, 200 do parts[i] = part end
  local s = table.concat(parts)
end
