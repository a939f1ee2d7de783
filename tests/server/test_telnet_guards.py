"""The telnet gateway against hostile clients, on real sockets: password guessing across many
connections (locked out per account and per address, alerted), negotiation floods (charged like
text, so a flooder is dropped after a few KiB), per-address limits on connections that have not
logged in, and a login deadline (a connection that never logs in is dropped)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import replace

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.session import SessionLimits
from ouroboros.server.gateway.telnet_codec import IAC, NOP
from ouroboros.server.gateway.throttle import LockoutPolicy
from tests.server.conftest import FAST_LIMITS, FakeClock, run
from tests.server.live import RawTelnet, live_servers

MANY = replace(FAST_LIMITS, max_unauthenticated_per_address=500, connect_burst_per_address=500)
LOCKOUT = replace(
    MANY,
    login_lockout_account=LockoutPolicy(max_failures=5, lockout_s=60),
    login_lockout_address=LockoutPolicy(max_failures=20, lockout_s=60),
)


ANSWERS = ("Wrong name or password", "Too many failed logins", "Rain hisses")


async def _guess(port: int, name: str, password: str) -> str:
    """One login attempt on a fresh connection: the server's answer."""
    client = await RawTelnet.connect(port)
    try:
        await client.expect("create NAME PASSWORD")
        client.send_line(f"connect {name} {password}")
        await client.read_until(lambda c: any(a in x for x in c.lines for a in ANSWERS), timeout_s=20)
        return next(x for x in client.lines if any(a in x for a in ANSWERS))
    finally:
        client.close()


def test_password_guessing_across_a_hundred_connections_is_locked_out(accounts: AccountStore) -> None:
    accounts.create("hiro", "katana99")
    clock = FakeClock()

    async def main() -> None:
        async with live_servers(accounts, limits=LOCKOUT, clock=clock) as live:
            answers = await asyncio.gather(
                *(_guess(live.telnet_port, "hiro", f"guess{i}") for i in range(100))
            )
            wrong = [a for a in answers if "Wrong name" in a]
            assert len(wrong) <= 5, len(wrong)  # five tries per account, however many connections
            assert sum("Too many failed" in a for a in answers) >= 95
            assert "Too many failed" in await _guess(
                live.telnet_port, "hiro", "katana99"
            )  # even the right one
            assert [a["key"] for a in live.alerts] == ["account:hiro"]

            clock.now += 61  # the lockout is over
            client = await RawTelnet.connect(live.telnet_port)
            await client.expect("create NAME PASSWORD")
            client.send_line("connect hiro katana99")
            await client.expect("Rain hisses")
            client.close()

    run(main())


def test_guessing_many_names_from_one_address_locks_the_address(accounts: AccountStore) -> None:
    accounts.create("hiro", "katana99")
    clock = FakeClock()

    async def main() -> None:
        async with live_servers(accounts, limits=LOCKOUT, clock=clock) as live:
            for i in range(20):  # one guess per name: no account reaches its limit
                assert "Wrong name" in await _guess(
                    live.telnet_port, f"user{'abcdefghijklmnopqrst'[i]}x", "nopenope"
                )
            assert "Too many failed" in await _guess(live.telnet_port, "hiro", "katana99")
            assert any(a["key"] == "address:127.0.0.1" for a in live.alerts)

    run(main())


async def _flood(port: int, sent: list[int]) -> bool:
    """Send IAC NOP until the server hangs up; whether it did (within 10 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk = bytes((IAC, NOP)) * 2048
    try:
        async with asyncio.timeout(10):
            while True:
                writer.write(chunk)
                sent[0] += len(chunk)
                await writer.drain()
                if reader.at_eof():
                    return True
                try:
                    async with asyncio.timeout(0.01):
                        if not await reader.read(65536) and reader.at_eof():
                            return True
                except TimeoutError:
                    pass
    except (ConnectionError, OSError):
        return True
    except TimeoutError:
        return False
    finally:
        writer.close()


def test_negotiation_floods_are_dropped_and_a_player_is_still_answered(accounts: AccountStore) -> None:
    async def main() -> None:
        async with live_servers(accounts, limits=MANY) as live:
            player = await RawTelnet.connect(live.telnet_port)
            await player.expect("create NAME PASSWORD")
            player.send_line("create hiro katana99")
            await player.expect("Rain hisses")
            sent = [[0] for _ in range(5)]
            dropped = await asyncio.gather(*(_flood(live.telnet_port, s) for s in sent))
            assert all(dropped)  # every flooder was hung up on
            player.send_line("say still here")
            await player.expect("Hiro says: still here")
            assert len(live.registry) == 1  # only the player is left

    run(main())


def test_an_address_may_hold_only_a_few_connections_before_login(accounts: AccountStore) -> None:
    limits = replace(FAST_LIMITS, max_unauthenticated_per_address=3, connect_burst_per_address=100)

    async def main() -> None:
        async with live_servers(accounts, limits=limits) as live:
            waiting = [await RawTelnet.connect(live.telnet_port) for _ in range(3)]
            for client in waiting:
                await client.expect("create NAME PASSWORD")
            extra = await RawTelnet.connect(live.telnet_port)
            await extra.expect("Too many connections from your address")
            await extra.until_closed()
            waiting[0].send_line("create hiro katana99")  # a login frees its place
            await waiting[0].expect("Rain hisses")
            again = await RawTelnet.connect(live.telnet_port)
            await again.expect("create NAME PASSWORD")
            for client in (*waiting, again):
                client.close()

    run(main())


def test_an_address_may_open_only_so_many_connections_a_second(accounts: AccountStore) -> None:
    clock = FakeClock()
    limits = replace(FAST_LIMITS, connects_per_address_per_s=1.0, connect_burst_per_address=5)

    async def main() -> None:
        async with live_servers(accounts, limits=limits, clock=clock) as live:
            for _ in range(5):
                client = await RawTelnet.connect(live.telnet_port)
                await client.expect("create NAME PASSWORD")
                client.close()
            refused = await RawTelnet.connect(live.telnet_port)
            await refused.expect("Too many connections from your address")
            clock.now += 1.0  # one more a second
            client = await RawTelnet.connect(live.telnet_port)
            await client.expect("create NAME PASSWORD")
            client.close()

    run(main())


def test_a_connection_that_never_logs_in_is_dropped_at_the_deadline(accounts: AccountStore) -> None:
    limits = replace(FAST_LIMITS, login_deadline_s=0.5)

    async def main() -> None:
        async with live_servers(accounts, limits=limits, idle_timeout_s=60) as live:
            lurker = await RawTelnet.connect(live.telnet_port)
            player = await RawTelnet.connect(live.telnet_port)
            await player.expect("create NAME PASSWORD")
            player.send_line("create hiro katana99")
            await player.expect("Rain hisses")

            async def trickle() -> None:  # a negotiation byte now and then does not keep it alive
                while not lurker.writer.is_closing():
                    lurker.writer.write(bytes((IAC, NOP)))
                    await asyncio.sleep(0.05)

            trickling = asyncio.create_task(trickle())
            await lurker.expect("did not log in in time", timeout_s=5)
            await lurker.until_closed()
            trickling.cancel()
            await asyncio.sleep(0)  # (lets the cancelled task finish)
            player.send_line("say still here")  # the player, logged in, is past any deadline
            await player.expect("Hiro says: still here")
            player.close()

    run(main())


def test_before_login_every_byte_counts_negotiation_included(accounts: AccountStore) -> None:
    limits = SessionLimits(login_burst_bytes=1000, login_bytes_per_s=1.0)
    clock = FakeClock()

    async def main() -> None:
        async with live_servers(accounts, limits=limits, clock=clock) as live:
            client = await RawTelnet.connect(live.telnet_port)
            await client.expect("create NAME PASSWORD")
            client.writer.write(bytes((IAC, NOP)) * 400)  # 800 bytes: within budget
            await client.writer.drain()
            client.send_line("help")
            await client.expect("Login commands")
            client.writer.write(bytes((IAC, NOP)) * 200)  # over: dropped, though no line was sent
            await client.expect("Too much input before logging in")
            await client.until_closed()

    run(main())


def test_the_websocket_gateway_keeps_the_same_deadline_and_budget(accounts: AccountStore) -> None:
    limits = replace(FAST_LIMITS, login_deadline_s=0.5, login_burst_bytes=2000, login_bytes_per_s=1.0)

    async def main() -> None:
        async with live_servers(accounts, limits=limits) as live:
            async with connect(live.websocket_uri) as lurker:
                async with asyncio.timeout(5):
                    await lurker.wait_closed()  # never logged in: dropped at the deadline
            async with connect(live.websocket_uri) as flooder:
                with contextlib.suppress(ConnectionClosed):
                    for _ in range(10):  # 3,000 bytes of frames before login: over budget
                        await flooder.send(json.dumps({"type": "line", "line": "x" * 280}))
                async with asyncio.timeout(5):
                    await flooder.wait_closed()
            assert len(live.registry) == 0

    run(main())


def test_a_trusted_address_is_exempt_from_the_connection_limits_only(accounts: AccountStore) -> None:
    limits = replace(
        FAST_LIMITS,
        max_unauthenticated_per_address=2,
        connect_burst_per_address=2,
        login_burst_bytes=1000,
        trusted_addresses=("127.0.0.1",),
    )

    async def main() -> None:
        async with live_servers(accounts, limits=limits) as live:
            clients = [await RawTelnet.connect(live.telnet_port) for _ in range(6)]
            for client in clients:
                await client.expect("create NAME PASSWORD")  # six, where two would be the limit
            clients[0].writer.write(bytes((IAC, NOP)) * 600)  # the byte budget still holds
            await clients[0].expect("Too much input before logging in")
            for client in clients:
                client.close()

    run(main())
