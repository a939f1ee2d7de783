# expect: forbidden_name — a mapping pattern's rest capture rebinds __builtins__, a name held as a string
# ruff: noqa


class Rest(Trait):
    async def execute(self, entity):
        match {"x": 1}:
            case {"x": 1, **__builtins__}:
                entity.thrust_x = 1
