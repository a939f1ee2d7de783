from __future__ import annotations

import logging
import time

import pytest

from ouroboros.server.gateway.accounts import AccountStore
from ouroboros.server.gateway.session import TAKEN_OVER_TEXT, Session, SessionLimits, SessionRegistry
from tests.server.conftest import FAST_LIMITS, FakeClock, FakeTransport, run
from tests.server.fakegame import ROOM_INFO, FakeGame


def make(accounts: AccountStore, limits: SessionLimits = FAST_LIMITS, clock: FakeClock | None = None):
    game = FakeGame()
    registry = SessionRegistry(game, accounts, limits=limits, clock=clock or time.monotonic)
    return game, registry


def open_session(registry: SessionRegistry) -> tuple[Session, FakeTransport]:
    transport = FakeTransport()
    session = registry.open(transport)
    assert session is not None
    return session, transport


def test_login_screen_shows_the_game_and_the_two_commands(accounts: AccountStore) -> None:
    _game, registry = make(accounts)
    _session, transport = open_session(registry)
    banner = transport.all_text()
    assert "FAKE CITY" in banner
    assert "connect NAME PASSWORD" in banner and "create NAME PASSWORD" in banner


def test_create_enters_the_world_and_lines_go_to_the_game(accounts: AccountStore) -> None:
    game, registry = make(accounts)
    session, transport = open_session(registry)

    async def main() -> None:
        await session.handle_line(b"create case cowboy99\r")
        await session.handle_line("look")
        await session.handle_line("   ")

    run(main())
    assert session.character == "Case"
    assert registry.characters == ["Case"]
    game.tick()
    assert game.applied == [("enter", "Case", ""), ("command", "Case", "look")]
    texts = transport.texts()
    assert "Welcome to the city, Case." in texts
    assert texts.count("Neon Alley") == 2  # the look on entering and the one asked for
    assert {"type": "gmcp", "package": "Room.Info", "data": ROOM_INFO} in transport.events


def test_connect_logs_in_an_existing_account(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    session, _transport = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    assert session.character == "Molly"
    game.tick()
    assert game.present("Molly")


def test_bad_login_commands_get_helpful_answers(accounts: AccountStore) -> None:
    game, registry = make(accounts)
    session, transport = open_session(registry)
    transport.take()

    async def main() -> None:
        await session.handle_line("dance wildly")
        await session.handle_line("connect bob")
        await session.handle_line("create b0b password")
        await session.handle_line("create bob short")
        await session.handle_line("help")

    run(main())
    texts = transport.texts()
    assert "Not a login command" in texts[0] and "connect NAME PASSWORD" in texts[0]
    assert texts[1] == "Usage: connect NAME PASSWORD"
    assert "3 to 20 letters" in texts[2]
    assert "6 to 128 characters" in texts[3]
    assert "Login commands" in texts[4]
    assert session.character is None and not transport.closed
    assert game.applied == [] and game._pending == []


def test_quit_on_the_login_screen_closes(accounts: AccountStore) -> None:
    _game, registry = make(accounts)
    session, transport = open_session(registry)
    run(session.handle_line("quit"))
    assert transport.closed and session.closed
    assert len(registry) == 0


def test_wrong_password_does_not_log_in_and_slows_down(
    accounts: AccountStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    accounts.create("Molly", "razorgirl")
    _game, registry = make(accounts)
    session, transport = open_session(registry)
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    registry.sleep = fake_sleep

    async def main() -> None:
        for _ in range(4):
            await session.handle_line("connect molly not-her-password")

    run(main())
    assert session.character is None
    assert transport.texts().count("Wrong name or password.") == 4
    assert waits == [0.02, 0.04, 0.08]  # nothing before the first try, then doubling
    assert "not-her-password" not in caplog.text

    # The per-name count is shared: a fresh connection to the same name waits too...
    other, _ = open_session(registry)
    run(other.handle_line("connect MOLLY razorgirl"))
    assert waits[-1] == 0.16
    assert other.character == "Molly"
    # ...and a success resets it.
    third, _ = open_session(registry)
    waits.clear()
    run(third.handle_line("connect molly not-her-password"))
    assert waits == []


def test_real_delay_happens_before_the_answer(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    limits = SessionLimits(login_failure_base_delay_s=0.2, login_failure_max_delay_s=0.2)
    _game, registry = make(accounts, limits)
    session, _transport = open_session(registry)

    async def main() -> float:
        await session.handle_line("connect molly wrongpass")
        started = time.monotonic()
        await session.handle_line("connect molly razorgirl")  # even a right password waits
        return time.monotonic() - started

    assert run(main()) >= 0.2
    assert session.character == "Molly"


def test_connecting_again_takes_over_the_old_session(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    old, old_transport = open_session(registry)
    run(old.handle_line("connect molly razorgirl"))
    game.tick()
    new, new_transport = open_session(registry)
    run(new.handle_line("connect Molly razorgirl"))

    assert old_transport.closed and old.closed
    assert old_transport.texts()[-1] == TAKEN_OVER_TEXT
    assert "taken over by a new connection" in TAKEN_OVER_TEXT
    assert registry.try_session("Molly") is new
    old.connection_lost()  # the old socket drops afterwards: the character must stay
    game.tick()
    assert game.applied == [("enter", "Molly", ""), ("command", "Molly", "look")]  # no new enter, no leave
    assert game.present("Molly")
    assert "Neon Alley" in new_transport.texts()

    run(new.handle_line("say still here"))
    game.tick()
    assert "Molly says: still here" in new_transport.texts()
    assert "Molly says: still here" not in old_transport.texts()


def test_dropped_connection_leaves_the_world_once(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    session, _ = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    session.connection_lost()
    session.connection_lost()
    game.tick()
    assert game.applied == [("enter", "Molly", ""), ("leave", "Molly", "")]
    assert not game.present("Molly")
    assert registry.characters == [] and len(registry) == 0


def test_quit_in_game_disconnects_and_leaves(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    session, transport = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    run(session.handle_line("quit"))
    game.tick()
    assert transport.events[-1] == {"type": "disconnect", "reason": "See you on the street."}
    assert transport.closed and session.closed
    game.tick()
    assert game.applied[-1] == ("leave", "Molly", "")


def test_events_go_to_the_right_session(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    accounts.create("Case", "cowboy99")
    game, registry = make(accounts)
    molly, molly_out = open_session(registry)
    case, case_out = open_session(registry)
    run(molly.handle_line("connect molly razorgirl"))
    run(case.handle_line("connect case cowboy99"))
    game.tick()
    molly_out.take()
    case_out.take()
    run(case.handle_line("inventory"))
    run(molly.handle_line("say hi"))
    game.tick()
    assert case_out.texts() == ["You typed: inventory", "Molly says: hi"]
    assert molly_out.texts() == ["Molly says: hi"]


def test_overlong_lines_are_cut_and_the_player_told_once(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    session, transport = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    transport.take()

    async def main() -> None:
        await session.handle_line(b"say " + b"a" * 2000)
        await session.handle_line(b"say " + b"b" * 2000)

    run(main())
    warnings = [t for t in transport.texts() if "limited to 512 bytes" in t]
    assert len(warnings) == 1
    game.tick()
    said = [line for kind, _, line in game.applied if kind == "command"]
    assert said == ["say " + "a" * 508, "say " + "b" * 508]


def test_binary_junk_is_cleaned_before_the_game_sees_it(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    session, _ = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    run(session.handle_line(b"say \x1b[2J\x00hi\xff\xfe\x07"))
    game.tick()
    assert game.applied[-1] == ("command", "Molly", "say [2Jhi\ufffd\ufffd")


def test_a_flood_is_dropped_with_one_warning_then_disconnected(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    clock = FakeClock()
    game, registry = make(accounts, clock=clock)
    session, transport = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    transport.take()

    async def main() -> None:
        for i in range(15 + 200):
            await session.handle_line(f"x{i}")

    run(main())
    assert not transport.closed
    assert transport.texts() == ["You are sending too fast; lines are being dropped."]
    game.tick()
    assert len([a for a in game.applied if a[0] == "command"]) == 15
    run(session.handle_line("one too many"))
    assert transport.closed and session.closed
    assert "Too much input" in transport.texts()[-1]
    game.tick()
    assert game.applied[-1] == ("leave", "Molly", "")


def test_a_steady_player_is_never_throttled(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    clock = FakeClock()
    game, registry = make(accounts, clock=clock)
    session, transport = open_session(registry)

    async def main() -> None:
        await session.handle_line("connect molly razorgirl")
        for i in range(500):
            clock.now += 0.2  # five lines a second
            await session.handle_line(f"x{i}")

    run(main())
    game.tick()
    assert len([a for a in game.applied if a[0] == "command"]) == 500
    assert "sending too fast" not in transport.all_text()


def test_a_failing_session_does_not_stop_delivery_to_others(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    accounts.create("Case", "cowboy99")
    game, registry = make(accounts)
    molly, molly_out = open_session(registry)
    case, case_out = open_session(registry)
    run(molly.handle_line("connect molly razorgirl"))
    run(case.handle_line("connect case cowboy99"))

    def broken(events: object) -> None:
        raise OSError("socket gone")

    molly_out.send = broken  # type: ignore[method-assign]
    run(case.handle_line("say hello"))
    game.tick()
    assert "Case says: hello" in case_out.texts()
    game.tick()
    assert ("leave", "Molly", "") in game.applied


def test_a_full_server_refuses_new_sessions(accounts: AccountStore) -> None:
    _game, registry = make(accounts, SessionLimits(max_sessions=1))
    open_session(registry)
    transport = FakeTransport()
    assert registry.open(transport) is None
    assert transport.closed and "full" in transport.all_text()


def test_close_all_ends_every_session(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    playing, playing_out = open_session(registry)
    _waiting, waiting_out = open_session(registry)
    run(playing.handle_line("connect molly razorgirl"))
    registry.close_all()
    assert playing_out.closed and waiting_out.closed
    assert "shutting down" in playing_out.texts()[-1]
    game.tick()
    assert game.applied == [("enter", "Molly", ""), ("leave", "Molly", "")]
    assert game._subscribers == []


def test_a_refused_character_goes_back_to_the_login_screen_with_one_line(accounts: AccountStore) -> None:
    accounts.create("Molly", "razorgirl")
    game, registry = make(accounts)
    session, transport = open_session(registry)
    run(session.handle_line("connect molly razorgirl"))
    transport.take()
    refusal = "Molly is playing elsewhere right now (neon-0); try again once they leave."
    registry._deliver("Molly", [{"type": "refused", "text": refusal}])
    assert transport.texts() == [refusal] and not transport.closed
    assert session.character is None and registry.characters == []
    assert game._pending[-1] == ("leave", "Molly", "")  # the game lets go of her, once
    run(session.handle_line("help"))  # the login screen answers
    assert "Login commands" in transport.texts()[-1]
    run(session.handle_line("connect molly razorgirl"))  # and a later try logs in
    assert session.character == "Molly"
