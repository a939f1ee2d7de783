-- expect: output  (floods the log)
function act(ctx) for i = 1, 1e7 do log('spam spam spam spam', i) end end
