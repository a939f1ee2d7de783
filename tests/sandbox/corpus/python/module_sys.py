# expect: forbidden_name — typing.sys.modules is a path from an allowed module to every module
# without gate: runtime — traits get public copies of allowed modules without their module attributes
# ruff: noqa


import typing


class Sneak(Trait):
    async def execute(self, entity):
        entity.thrust_x = typing.sys.modules["os"].getpid()
