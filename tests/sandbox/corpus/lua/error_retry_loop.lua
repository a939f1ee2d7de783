-- expect: instructions|wall_clock  (catch every error and go on forever)
function act(ctx)
  while true do pcall(error, 'again') end
end
