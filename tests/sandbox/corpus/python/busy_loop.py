# expect: wall_clock — passes the gate on purpose: a plain busy loop in execute
# A busy loop cannot be stopped by asyncio.wait_for in-process; the host kills the worker.
# ruff: noqa


class Spin(Trait):
    async def execute(self, entity):
        while True:
            pass
