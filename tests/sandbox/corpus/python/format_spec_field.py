# expect: forbidden_name — a nested field in a format spec reads an attribute ('{0:{1.x}}')
# ruff: noqa


class Spec(Trait):
    async def execute(self, entity):
        text = "{0:{1.execute}}".format(1, self)
        entity.thrust_x = len(text)
