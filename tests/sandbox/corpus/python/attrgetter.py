# expect: forbidden_import — operator.attrgetter is getattr spelled another way
# without gate: runtime — the worker's import refuses operator
# ruff: noqa


import operator


class Sneak(Trait):
    async def execute(self, entity):
        entity.thrust_x = operator.attrgetter("x")(entity)
