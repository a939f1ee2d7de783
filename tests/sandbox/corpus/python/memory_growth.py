# expect: memory — passes the gate on purpose: grows a list of 10 MB blocks until something breaks
# RLIMIT_AS stops the growth at the worker's address-space limit.
# ruff: noqa


class Hog(Trait):
    async def execute(self, entity):
        blocks = []
        while True:
            blocks.append(bytearray(10_000_000))
