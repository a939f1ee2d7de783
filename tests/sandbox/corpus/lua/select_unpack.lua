-- expect: runtime  (unpacks more values than any stack holds)
function act(ctx) return select('#', table.unpack({}, 1, 5e6)) end
