-- expect: memory  (2 * 2^62 wraps to a negative size and would credit the budget; then loops)
function act(ctx)
  pcall(string.rep, "ab", 1 << 62)
  local i = 0
  while true do i = i + 1 end
end
