-- expect: escape  (stops the collector to pile up memory)
function act(ctx) return _ENV['collect' .. 'garbage']('stop') end
