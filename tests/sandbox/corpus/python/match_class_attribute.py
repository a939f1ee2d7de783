# expect: forbidden_name — a class pattern reads attributes by the names it holds, past any check of Attribute nodes
# ruff: noqa
# Without a single dunder in it: the pattern reads 'execute', then 'cr_frame' would follow.


class Pattern(Trait):
    async def execute(self, entity):
        match self:
            case Trait(execute=method):
                entity.thrust_x = 1 if method else 0
