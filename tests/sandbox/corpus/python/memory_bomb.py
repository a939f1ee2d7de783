# expect: memory — passes the gate on purpose: [0] * 10**10 asks for 80 GB
# RLIMIT_AS makes the allocation fail inside the worker (MemoryError), the host restarts it.
# ruff: noqa


class Hog(Trait):
    async def execute(self, entity):
        entity.thrust_x = len([0] * 10**10)
