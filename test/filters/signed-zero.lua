-- Lua 5.4 compiles `x - k` for an integer constant k (after its own constant
-- folding) as `x + (-k)`, so `-0.0 - 0` is +0.0 while `-0.0 - z` with a local
-- z = 0 stays -0.0. Accepts exactly when both engines keep that distinction.
local z = 0
function filter(pkt)
  local x = -(#pkt * 0.0)
  local a = 1 / (x - z) < 0        -- not folded by Lua: stays -0.0
  local b = 1 / (x - (2 - 2)) < 0  -- folded to x + 0: +0.0
  local c = 1 / (x - 0) < 0
  return a and not b and not c
end
