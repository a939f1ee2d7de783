# expect: forbidden_name — vars() hands out a namespace to index by string
# without gate: runtime — vars is not among the worker's builtins
# ruff: noqa


class Sneak(Trait):
    async def execute(self, entity):
        entity.thrust_x = vars()["entity"].x
