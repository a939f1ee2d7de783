# expect: forbidden_name — functools.singledispatch's register evaluates a string annotation through typing
# without gate: runtime — the worker's functools has no singledispatch
# ruff: noqa
import functools


class Dispatch(Trait):
    async def execute(self, entity):
        u = "_" * 2
        code = "(Trait.execute." + u + "globals" + u + "['os'].getpid(), int)[1]"

        def base(x):
            return 0

        def spy(x: code):
            return 1

        d = functools.singledispatch(base)
        d.register(spy)
        entity.thrust_x = d(1)
