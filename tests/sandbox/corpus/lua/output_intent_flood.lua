-- expect: output  (floods intents)
function act(ctx) for i = 1, 1e7 do intent.say(i, 'hello') end end
