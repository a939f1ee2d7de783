"""Hostile bytes against the real city behind its telnet gateway: nothing a client sends crashes
the server, stops the ticks, or disturbs another player."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.conftest import FAST_LIMITS, FAST_SCRYPT
from tests.server.live import RawTelnet

from ouroboros.server.gateway import AccountStore, SessionRegistry, serve_telnet
from ouroboros.worlds import build_world
from ouroboros.worlds.neon.runtime import NeonGame

VERBS = [
    "look",
    "n",
    "s",
    "e",
    "w",
    "in",
    "out",
    "get",
    "drop",
    "give",
    "wear",
    "wield",
    "attack",
    "talk",
    "buy",
    "sell",
    "list",
    "quest",
    "say",
    "emote",
    "inventory",
    "score",
    "flee",
    "help",
]
lines = st.builds(
    lambda v, a: f"{v} {a}".encode("utf-8", "replace"), st.sampled_from(VERBS), st.text(max_size=40)
)
chunks = st.lists(
    st.one_of(
        st.binary(max_size=300),
        lines.map(lambda b: b + b"\r\n"),
        st.sampled_from([b"\xff\xfa\xc9Core.Hello {}\xff\xf0", b"\xff\xff\xff", b"\x00\r\n", b"\x1b[2J\r\n"]),
    ),
    max_size=24,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=chunks)
def test_fuzzed_bytes_never_crash_the_city(chunks: list[bytes]) -> None:
    async def main(folder: Path) -> None:
        game = NeonGame(build_world("neon", 0), tick_hz=200)
        accounts = AccountStore(folder / "neon.db", params=FAST_SCRYPT)
        registry = SessionRegistry(game, accounts, limits=FAST_LIMITS)
        ticking = asyncio.create_task(game.run_ticks())
        server = await serve_telnet(game, registry, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            molly = await RawTelnet.connect(port)
            molly.send_line("create Molly razorgirl")
            await molly.expect("Lantern Plaza")
            fuzzer = await RawTelnet.connect(port)
            fuzzer.writer.write(b"create Zed password1\r\n")
            for chunk in chunks:
                fuzzer.writer.write(chunk)
                with contextlib.suppress(ConnectionError):
                    await fuzzer.writer.drain()
            await asyncio.sleep(0.1)
            fuzzer.close()
            tick = game.world.tick
            molly.send_line("say still here")
            await molly.expect('You say, "still here"')
            assert game.world.tick > tick and not ticking.done()
            molly.close()
        finally:
            registry.close_all()
            server.close()
            ticking.cancel()
            await asyncio.gather(ticking, return_exceptions=True)
            accounts.close()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(asyncio.wait_for(main(Path(folder)), 30))
