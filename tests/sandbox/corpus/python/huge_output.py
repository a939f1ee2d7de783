# expect: bad_result — passes the gate on purpose: returns a 10-million-bit int and a huge string as intents
# Intents must be int64; the reply is three int64 columns of the batch's length or nothing.
# ruff: noqa


class Flood(Trait):
    async def execute(self, entity):
        return (1 << 10**7, "x" * 10**7)
