# expect: forbidden_name — writes a forged reply frame (JSON nested 30,000 deep) straight onto the worker's stdout
# without gate: bad_result — the host measures a reply's nesting before decoding it: no RecursionError
# ruff: noqa


class Forge(Trait):
    async def execute(self, entity):
        match Trait.execute:
            case object(__globals__=g):
                pass
        head = b"[" * 30000 + b"]" * 30000
        g["os"].write(1, g["_HEADER"].pack(len(head), 0) + head)
        while True:
            pass
