# expect: forbidden_name — .format() on a template the gate cannot read (fields could reach attributes)
# without gate: bad_result — the text it builds is not an int intent
# ruff: noqa

TEMPLATE = "{0.x}{0.y}"


class Leak(Trait):
    async def execute(self, entity):
        entity.thrust_x = TEMPLATE.format(entity)
