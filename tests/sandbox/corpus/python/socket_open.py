# expect: forbidden_import — opens a socket to phone home
# without gate: runtime — the worker's import refuses socket
# ruff: noqa


import socket


class Phone(Trait):
    async def execute(self, entity):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
