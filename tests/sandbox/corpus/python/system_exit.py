# expect: runtime — passes the gate on purpose: raises SystemExit to stop the worker's loop
# BaseException from a trait is caught like any error; the worker keeps serving.
# ruff: noqa


class Quitter(Trait):
    async def execute(self, entity):
        raise SystemExit(0)
