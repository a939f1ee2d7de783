# expect: forbidden_name — reaches the real __import__ to load _socket and open a socket
# without gate: runtime — _socket cannot be loaded once the worker is locked in (no file opens)
# ruff: noqa


class Phone(Trait):
    async def execute(self, entity):
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == "_wrap_close":
                real_import = cls.__init__.__globals__["__builtins__"]["__import__"]
                sock = real_import("_socket").socket()
                sock.connect(("192.0.2.1", 80))
