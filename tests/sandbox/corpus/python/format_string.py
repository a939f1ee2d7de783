# expect: forbidden_name — a str.format field that walks attributes ("{0.__class__...}")
# without gate: bad_result — the leaked text is not an int intent
# ruff: noqa


class Leak(Trait):
    async def execute(self, entity):
        entity.thrust_x = "{0.__class__.__init__.__globals__}".format(entity)
