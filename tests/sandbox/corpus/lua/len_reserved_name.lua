-- expect: forbidden_name  (naming the host's concatenation object to bypass it)
-- runtime: syntax
-- neon: disabled  (neon reports a script that does not load as disabled: "not loaded: syntax")
local function bomb()
  local __sandbox_cat = ""
  local s = "\0"
  while true do s = s .. __sandbox_cat .. s end
end
function act(ctx) bomb() end
function on_event(e) bomb() end
