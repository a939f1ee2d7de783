# expect: recursion — passes the gate on purpose: unbounded recursion
# The worker's recursion limit raises RecursionError; the worker lives on.
# ruff: noqa


def dive(n):
    return dive(n + 1) + 1


class Diver(Trait):
    async def execute(self, entity):
        entity.thrust_x = dive(0)
