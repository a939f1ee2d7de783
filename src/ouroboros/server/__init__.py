"""The live server, by concept.

- ``gateway``: the MUD's doors for players — accounts, sessions, telnet and WebSocket.
- ``runtime``: the process composition root — a ``WorldRunner`` per world, governance, snapshots,
  evolution and the operator feed.
- ``api``: the admin HTTP API and the dashboard it serves.
- ``stream``: the binary world stream and the charts' metrics.

Nothing here names a world: each world's hooks come from its spec (``ouroboros.worlds``).
"""

__all__: list[str] = []
