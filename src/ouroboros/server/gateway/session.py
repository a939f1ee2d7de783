"""Sessions: one per connection, whatever the transport, and the registry that routes a game's
events to them.

A transport (telnet, WebSocket) owns the socket; it hands every received line to
``Session.handle_line`` (awaiting it, so one connection's lines are handled in order, one at a
time) and calls ``Session.connection_lost`` when the socket ends. The session answers through the
transport's ``send`` (game-shaped event dicts) and ends it through ``close``.

What it promises:

- Before login only the login screen runs (see ``login``); after it, every non-empty line goes to
  ``game.command(character, line)`` as it is, once cleaned (``hygiene.clean_line``).
- Every line passes a per-connection flood guard first: excess lines are dropped with one warning
  per flood, and a sustained flood disconnects.
- Failed logins slow down: before checking a password the session waits the larger of the
  per-name delay (shared by all connections) and its own per-connection delay; and past
  ``SessionLimits.login_lockout_account`` / ``login_lockout_address`` failures an account or an
  address is locked out (every try refused, the right password too; attempts in flight count,
  so parallel connections get no more tries than one). A lockout is alerted (``on_alert``).
- Before login a connection has a byte budget (every byte counts, telnet negotiation too) and a
  deadline; an address may hold only so many such connections and open only so many a second.
- One session per character. A login to a character that already has a session takes it over:
  the old session is told and closed, the new one goes on with the character (no new ``enter``;
  it gets a ``look``). Otherwise a login calls ``game.enter``.
- When a session ends (the connection drops, quit, idle, flood), ``game.leave`` is called exactly
  once, unless the character was taken over by another session.
- A ``refused`` event (the character plays in another shard) shows its text, ends the character's
  part of the session (``game.leave``) and puts the connection back at the login screen.
- A failing session never stops the game's delivery to the others.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ouroboros.errors import AccountError
from ouroboros.server.gateway.accounts import MAX_NAME_CHARS, AccountStore
from ouroboros.server.gateway.game import Event, LiveGame
from ouroboros.server.gateway.hygiene import clean_line
from ouroboros.server.gateway.login import HELP_TEXT, banner, parse_login_line
from ouroboros.server.gateway.throttle import (
    ACCOUNT_LOCKOUT,
    ADDRESS_LOCKOUT,
    AddressGate,
    Admission,
    Clock,
    FailureThrottle,
    FloodGuard,
    InputBudget,
    LockoutPolicy,
    LoginGuard,
    failure_delay_s,
)

log = logging.getLogger(__name__)

TAKEN_OVER_TEXT = "Your character was taken over by a new connection."
Alert = Callable[[dict[str, Any]], None]


def address_of(transport: Transport) -> str:
    """The client's address (no port): what per-address limits count by."""
    address = getattr(transport, "address", None)
    if isinstance(address, str) and address:
        return address
    return transport.peer.rpartition(":")[0] or transport.peer


def text_event(text: str, style: str = "system") -> Event:
    return {"type": "text", "style": style, "text": text}


class Transport(Protocol):
    """What a session needs of a connection. ``send`` never blocks: a transport that cannot keep
    up drops the connection instead of buffering without bound. ``close`` sends what is already
    queued, then closes; both are no-ops on a closed transport."""

    peer: str

    def send(self, events: Sequence[Event]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SessionLimits:
    """Per-connection and per-address limits shared by every transport.

    Before login a connection may send ``login_burst_bytes`` and then ``login_bytes_per_s``
    (every byte counts, negotiation included); past that it is dropped. It must log in within
    ``login_deadline_s``. An address may hold ``max_unauthenticated_per_address`` connections
    that have not logged in, and open ``connects_per_address_per_s`` new ones a second
    (``connect_burst_per_address`` saved up). A player's reading pauses while it is over
    ``playing_bytes_per_s`` (``playing_burst_bytes`` saved up). Failed logins lock out an
    account (``login_lockout_account``) and an address (``login_lockout_address``).
    ``trusted_addresses`` (a load balancer, a load test) are exempt from the per-address
    connection limits only; budgets, deadlines and lockouts still hold for them."""

    max_line_bytes: int = 512
    lines_per_s: float = 8.0
    line_burst: int = 16
    flood_disconnect_after_dropped: int = 200
    flood_quiet_s: float = 10.0
    login_failure_base_delay_s: float = 0.5
    login_failure_max_delay_s: float = 8.0
    max_sessions: int = 2_000
    login_deadline_s: float = 120.0
    login_bytes_per_s: float = 256.0
    login_burst_bytes: int = 4096
    playing_bytes_per_s: float = 4096.0
    playing_burst_bytes: int = 32 * 1024
    max_unauthenticated_per_address: int = 8
    connects_per_address_per_s: float = 0.5
    connect_burst_per_address: int = 20
    login_lockout_account: LockoutPolicy = ACCOUNT_LOCKOUT
    login_lockout_address: LockoutPolicy = ADDRESS_LOCKOUT
    trusted_addresses: tuple[str, ...] = ()


class SessionState(enum.Enum):
    LOGIN = "login"
    PLAYING = "playing"
    CLOSED = "closed"


class Session:
    """One connection's conversation: the login screen, then the character's command line."""

    def __init__(self, registry: SessionRegistry, transport: Transport) -> None:
        self._registry = registry
        self.transport = transport
        self.state = SessionState.LOGIN
        self.character: str | None = None
        limits = registry.limits
        self._flood = FloodGuard(
            lines_per_s=limits.lines_per_s,
            burst=limits.line_burst,
            disconnect_after_dropped=limits.flood_disconnect_after_dropped,
            quiet_s=limits.flood_quiet_s,
            clock=registry.clock,
        )
        self._login_failures = 0
        self._told_truncated = False
        self.address = address_of(transport)
        self._opened_at = registry.clock()
        self._budget = InputBudget(limits.login_bytes_per_s, limits.login_burst_bytes, registry.clock)
        self._gated = False  # counted by the registry's address gate until login or close

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def _tell(self, text: str, style: str = "system") -> None:
        self.transport.send([text_event(text, style)])

    def start(self) -> None:
        """Show the login screen."""
        self._tell(banner(self._registry.game.name), "room_title")

    # -- input -------------------------------------------------------------------------------------

    def login_time_left(self) -> float:
        """Seconds left to log in (infinite once playing); a transport closes the session at 0."""
        if self.state is not SessionState.LOGIN:
            return float("inf")
        return self._opened_at + self._registry.limits.login_deadline_s - self._registry.clock()

    def charge_input(self, n: int) -> float | None:
        """Spend ``n`` received bytes (before they are parsed) of the connection's budget: the
        seconds its reading should pause (0: none), or ``None`` when it was dropped for it (too
        much input before login)."""
        over = self._budget.charge(n)
        if over <= 0:
            return 0.0
        if self.state is SessionState.LOGIN:
            log.info("dropping %s: too much input before login", self.transport.peer)
            self.close("Too much input before logging in: disconnected.")
            return None
        return over

    def _admit(self) -> bool:
        verdict = self._flood.admit()
        if verdict is Admission.ACCEPT:
            return True
        if verdict is Admission.DROP_AND_WARN:
            self._tell("You are sending too fast; lines are being dropped.", "error")
        elif verdict is Admission.DISCONNECT:
            log.info("disconnecting %s: input flood", self.transport.peer)
            self.close("Too much input: disconnected.")
        return False

    async def handle_line(self, raw: bytes | str) -> None:
        """Handle one line as received (any bytes; the transport has removed its line end)."""
        if self.closed or not self._admit():
            return
        line = clean_line(raw, self._registry.limits.max_line_bytes)
        if line.truncated and not self._told_truncated:
            self._told_truncated = True
            limit = self._registry.limits.max_line_bytes
            self._tell(f"Lines are limited to {limit} bytes; yours was cut.", "error")
        if self.state is SessionState.LOGIN:
            await self._login_screen(line.text)
        elif self.state is SessionState.PLAYING and self.character is not None and line.text:
            self._registry.game.command(self.character, line.text)

    def report_bad_input(self, code: str, message: str) -> None:
        """A transport-level bad input (a malformed frame): answered with an ``error`` event,
        and counted by the flood guard like a line."""
        if not self.closed and self._admit():
            self.transport.send([{"type": "error", "code": code, "message": message}])

    async def _login_screen(self, text: str) -> None:
        command = parse_login_line(text)
        if command.verb == "empty":
            return
        if command.verb in ("unknown", "usage"):
            self._tell(command.message, "error")
        elif command.verb == "help":
            self._tell(HELP_TEXT)
        elif command.verb == "quit":
            self.close("Goodbye.")
        elif command.verb == "create":
            await self._create(command.name, command.password)
        else:
            await self._connect(command.name, command.password)

    async def _create(self, name: str, password: str) -> None:
        try:
            account = await self._registry.accounts.create_async(name, password)
        except AccountError as error:
            if not self.closed:
                self._tell(error.message, "error")
            return
        if not self.closed:
            self._tell(f"Welcome to the city, {account.name}.")
            self._registry.enter_world(self, account.name)

    async def _connect(self, name: str, password: str) -> None:
        registry = self._registry
        key = name.lower()
        keys = [f"address:{self.address}"]
        if len(key) <= MAX_NAME_CHARS:  # junk names are not kept
            keys.append(f"account:{key}")
        wait = registry.login_guard.begin(keys)
        if wait > 0:
            self._tell(f"Too many failed logins; try again in {max(1, round(wait))} s.", "error")
            return
        ok = True
        try:
            ok = await self._check_password(name, password, key)
        finally:
            registry.raise_alerts(registry.login_guard.end(keys, ok, clear_on_success=keys[1:]), self)

    async def _check_password(self, name: str, password: str, key: str) -> bool:
        """Whether the attempt did not fail (a success, or a connection gone before the check)."""
        registry = self._registry
        limits = registry.limits
        own_delay_s = failure_delay_s(
            self._login_failures, limits.login_failure_base_delay_s, limits.login_failure_max_delay_s
        )
        delay = max(registry.login_failures.delay_s(key), own_delay_s)
        if delay > 0:
            await registry.sleep(delay)
        if self.closed:
            return True
        account = await registry.accounts.verify_async(name, password)
        if self.closed:
            return account is not None
        if account is None:
            self._login_failures += 1
            if len(key) <= MAX_NAME_CHARS:  # junk names are not kept
                registry.login_failures.record_failure(key)
            log.info("failed login for %r from %s", key[:MAX_NAME_CHARS], self.transport.peer)
            self._tell("Wrong name or password.", "error")
            return False
        registry.login_failures.reset(key)
        self._login_failures = 0
        registry.enter_world(self, account.name)
        return True

    # -- output and lifetime -----------------------------------------------------------------------

    def deliver(self, events: Sequence[Event]) -> None:
        """Events from the game for this session's character; a ``disconnect`` event ends it."""
        if self.state is not SessionState.PLAYING:
            return
        refused = next((e for e in events if e.get("type") == "refused"), None)
        if refused is not None:
            self._back_to_login(str(refused.get("text", "")))
            return
        self.transport.send(events)
        if any(event.get("type") == "disconnect" for event in events):
            self._end()
            self.transport.close()

    def _back_to_login(self, text: str) -> None:
        character = self.character
        self.state = SessionState.LOGIN
        self.character = None
        self._opened_at = self._registry.clock()  # a fresh login deadline
        limits = self._registry.limits
        self._budget = InputBudget(limits.login_bytes_per_s, limits.login_burst_bytes, self._registry.clock)
        if character is not None and self._registry.release(self, character):
            self._registry.game.leave(character)
        self._tell(text or "Your character cannot play here right now.", "error")

    def close(self, message: str | None = None) -> None:
        """End the session from the server side, telling the player ``message`` first."""
        if self.closed:
            return
        if message:
            self._tell(message)
        self._end()
        self.transport.close()

    def connection_lost(self) -> None:
        """The transport's connection ended (for whatever reason); idempotent."""
        self._end()

    def _taken_over(self) -> None:
        self._tell(TAKEN_OVER_TEXT)
        self._ungate()
        self.state = SessionState.CLOSED
        self._registry.forget(self)
        self.transport.close()

    def _ungate(self) -> None:
        if self._gated:
            self._gated = False
            self._registry.gate.logged_in(self.address)

    def _end(self) -> None:
        if self.closed:
            return
        self._ungate()
        playing = self.state is SessionState.PLAYING
        self.state = SessionState.CLOSED
        self._registry.forget(self)
        if playing and self.character is not None and self._registry.release(self, self.character):
            self._registry.game.leave(self.character)


class SessionRegistry:
    """Every session of one game; routes the game's events to the character's session."""

    def __init__(
        self,
        game: LiveGame,
        accounts: AccountStore,
        *,
        limits: SessionLimits | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_alert: Alert | None = None,
    ) -> None:
        self.game = game
        self.accounts = accounts
        self.limits = limits or SessionLimits()
        self.clock = clock
        self.sleep = sleep
        self.login_failures = FailureThrottle(
            base_delay_s=self.limits.login_failure_base_delay_s,
            max_delay_s=self.limits.login_failure_max_delay_s,
            clock=clock,
        )
        self.login_guard = LoginGuard(
            {"account": self.limits.login_lockout_account, "address": self.limits.login_lockout_address},
            clock=clock,
        )
        self.gate = AddressGate(
            max_unauthenticated=self.limits.max_unauthenticated_per_address,
            connects_per_s=self.limits.connects_per_address_per_s,
            connect_burst=self.limits.connect_burst_per_address,
            clock=clock,
        )
        self.on_alert = on_alert
        self._sessions: set[Session] = set()
        self._by_character: dict[str, Session] = {}
        self._unsubscribe: Callable[[], None] | None = game.subscribe(self._deliver)

    def open(self, transport: Transport) -> Session | None:
        """A new session on ``transport`` with its login screen shown; ``None`` (and the transport
        told and closed) when the server is full."""
        if len(self._sessions) >= self.limits.max_sessions:
            transport.send([text_event("The city is full right now; try again later.", "error")])
            transport.close()
            return None
        address = address_of(transport)
        trusted = address in self.limits.trusted_addresses
        refusal = None if trusted else self.gate.admit(address)
        if refusal is not None:
            log.info("refusing %s: %s", transport.peer, refusal)
            transport.send([text_event("Too many connections from your address; try again later.", "error")])
            transport.close()
            return None
        session = Session(self, transport)
        session._gated = not trusted
        self._sessions.add(session)
        session.start()
        return session

    def raise_alerts(self, lockouts: Sequence[Any], session: Session) -> None:
        """Each lockout that began: a warning log line and ``on_alert`` (the runtime's feed)."""
        for lockout in lockouts:
            alert = {
                "action": "lockout",
                "key": lockout.key,
                "failures": lockout.failures,
                "seconds": lockout.seconds,
                "gateway": self.game.name,
                "last_from": session.address,
            }
            log.warning(
                "lockout: %s failed logins for %s; locked for %.0f s",
                lockout.failures,
                lockout.key,
                lockout.seconds,
            )
            if self.on_alert is not None:
                try:
                    self.on_alert(alert)
                except Exception:
                    log.exception("the lockout alert could not be delivered")

    def try_session(self, character: str) -> Session | None:
        return self._by_character.get(character)

    @property
    def characters(self) -> list[str]:
        return sorted(self._by_character)

    def __len__(self) -> int:
        return len(self._sessions)

    def enter_world(self, session: Session, character: str) -> None:
        """Bind ``character`` to ``session``, taking it over from an older session if any."""
        previous = self._by_character.get(character)
        self._by_character[character] = session
        session.character = character
        session.state = SessionState.PLAYING
        session._ungate()
        limits = self.limits
        session._budget = InputBudget(limits.playing_bytes_per_s, limits.playing_burst_bytes, self.clock)
        if previous is not None and previous is not session:
            log.info("%s taken over by %s", character, session.transport.peer)
            previous._taken_over()
            session._tell(f"You take over {character} from your other connection.")
            self.game.command(character, "look")
        else:
            log.info("%s entered from %s", character, session.transport.peer)
            self.game.enter(character)

    def release(self, session: Session, character: str) -> bool:
        """Unbind ``character`` if ``session`` still holds it; whether it did."""
        if self._by_character.get(character) is session:
            del self._by_character[character]
            return True
        return False

    def forget(self, session: Session) -> None:
        self._sessions.discard(session)

    def _deliver(self, character: str, events: list[Event]) -> None:
        session = self._by_character.get(character)
        if session is None:
            return
        try:
            session.deliver(events)
        except Exception:  # one broken connection must not stop delivery to the others
            log.exception("delivery to %s failed; closing its session", character)
            session.connection_lost()
            session.transport.close()

    def close_all(self, message: str = "The server is shutting down.") -> None:
        """Close every session (each playing character leaves) and stop listening to the game."""
        for session in list(self._sessions):
            session.close(message)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
