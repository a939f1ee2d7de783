# expect: forbidden_name — defines __await__, which the gate does not let a trait define
# without gate: bad_result — execute awaits an object that suspends forever
# Execute is driven with one send(None); suspending is refused, so no trait can park the worker.
# ruff: noqa


class Forever:
    def __await__(self):
        while True:
            yield None


class Sleeper(Trait):
    async def execute(self, entity):
        await Forever()
