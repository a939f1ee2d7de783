# expect: forbidden_name — reaches the caller's frame through an exception's traceback (tb_frame.f_back)
# without gate: runtime — the worker's globals are reached, and os.fork is refused by seccomp
# ruff: noqa


class Escape(Trait):
    async def execute(self, entity):
        try:
            1 / 0
        except ZeroDivisionError as exc:
            frame = exc.__traceback__.tb_frame
        while frame is not None and "os" not in frame.f_globals:
            frame = frame.f_back
        entity.thrust_x = frame.f_globals["os"].fork()
