-- expect: escape  (poisons the string metatable to reach other scripts)
function act(ctx)
  getmetatable('').__index.rep = function() return 'pwned' end
end
