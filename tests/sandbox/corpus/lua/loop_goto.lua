-- expect: instructions  (an endless loop built from goto)
function act(ctx)
  ::top::
  goto top
end
