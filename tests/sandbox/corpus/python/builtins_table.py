# expect: forbidden_name — hides getattr in a dict of builtins to call it by key later
# without gate: runtime — the names do not exist in the worker
# ruff: noqa


TABLE = {"get": 0}


class Sneak(Trait):
    async def execute(self, entity):
        table = {"get": getattr, "set": setattr}
        entity.thrust_x = table["get"](entity, "x")
