# expect: module_code — module-level code that never ends, run at load time
# without gate: wall_clock — the load has its own deadline
# ruff: noqa


while True:
    pass


class Never(Trait):
    async def execute(self, entity):
        return None
