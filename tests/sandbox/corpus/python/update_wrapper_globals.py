# expect: forbidden_name — functools.update_wrapper copies a function's __globals__ by a name built at run time
# without gate: runtime — the worker's functools has no update_wrapper, its dataclasses no make_dataclass
# ruff: noqa
import dataclasses
import functools


class Copy(Trait):
    async def execute(self, entity):
        name = "_" * 2 + "globals" + "_" * 2
        Box = dataclasses.make_dataclass("Box", [(name, dict)])
        loot = {}
        box = Box(loot)
        functools.update_wrapper(box, Trait.execute, assigned=(), updated=(name,))
        entity.thrust_x = loot["os"].getpid()
