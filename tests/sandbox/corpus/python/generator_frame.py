# expect: forbidden_name — climbs gi_frame.f_back from a running generator to the worker's globals
# without gate: runtime — it reaches the worker's os module, but seccomp refuses the file it opens
# ruff: noqa


def climb():
    frame = walker.gi_frame.f_back
    while frame is not None:
        if "os" in frame.f_globals:
            yield frame.f_globals["os"].open("/tmp/ouroboros-escape-gen", 65)
        frame = frame.f_back
    yield 0


walker = None


class Escape(Trait):
    async def execute(self, entity):
        global walker
        walker = climb()
        entity.thrust_x = next(walker)
