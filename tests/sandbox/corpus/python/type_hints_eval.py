# expect: forbidden_name — typing.get_type_hints evaluates an annotation built at run time: __subclasses__, __globals__
# without gate: runtime — the worker's typing has no get_type_hints (nor ForwardRef) to evaluate it
# ruff: noqa
import typing


class Hints(Trait):
    async def execute(self, entity):
        u = "_" * 2
        s = "(len(()." + u + "class" + u + "." + u + "base" + u + "." + u + "subclasses" + u + "()), int)[0]"

        def g(x: s):
            pass

        entity.thrust_x = typing.get_type_hints(g)["x"]
        p = "(Trait.execute." + u + "globals" + u + "['os'].getpid(), int)[0]"

        def h(x: p):
            pass

        entity.thrust_y = typing.get_type_hints(h)["x"]
