"""The one-process runtime that ``ouroboros go`` starts: every world live, governed and controllable.

``Runtime(data_dir, worlds=None)`` (``None``: ``ouroboros.worlds.live_worlds()``) owns, per world,
a ``WorldRunner``:

- the world and its tick thread, at the world's own pace (30 ticks/s, or what a played world's
  game asks for); a played world's thread (``spec.game``) runs an asyncio loop that also serves
  its telnet and WebSocket gateways;
- the world's governed data folder ``<data>/<world>/`` (``world.json``, ledger, keyring and a
  ``server`` signing key, made on first start), followed before every tick (``PointerFollower``);
- a *control thread* that alone touches the governor, the council and the evolution loop: SQLite
  connections belong to the thread that opened them, so every governance call from the API or
  from a tick thread is handed to it (``runner.call(fn)``);
- a world that evolves (``spec.evolution``): an *evolution thread* where an evolution cycle is
  evaluated on a fork of the world taken between two ticks, while the world ticks on; the cycle is
  planned and delivered on the control thread (the accepted change reaches the world through the
  active pointer at a tick boundary);
- tick statistics, STOP/GO (pausing ticking; players stay connected; kept in
  ``<data>/<world>/run_state.json``, so a world STOPped when ``go`` ended starts STOPped),
  parameters (every world's alike: checked by its spec's params hook, then a governed
  ``world_params`` patch on the active version that later versions keep; neon's ``tick_hz`` paces
  the city from the tick it lands) and snapshots
  (``<data>/<world>/snapshots/<id>.snapshot`` plus a JSON sidecar), one of the clean state taken
  before the director starts when a world starts new (kept to one per world; a resumed world
  takes none).

What it promises:

- The wall clock paces ticks and never reaches a world; every change to a world from outside
  (parameters, restore, pointer switches) happens under the runner's lock, between two ticks.
- ``stop()`` stops every tick thread at a tick boundary and saves each world (to
  ``<data>/<world>/<world>.snapshot``, a played world through its game's store).
- Everything that happens that an operator should see (governance verdicts, director decisions,
  evolution steps, controls) is published on ``runtime.feed``: a bounded deque with subscribers.

The package, by concept: ``options`` (``RuntimeOptions``, constants), ``feed`` (``Feed``),
``runner`` (``WorldRunner``: the tick loop, pace, control thread, council step, saving),
``played`` (the loop of a world people play: its game and gateways), and the parts a runner is
given as their typed host: ``governance`` (``Governance``: ``runner.governance``, the governed
folder, parameters, patches), ``evolution`` (``Evolution``: ``runner.evolution``, cycles off the
tick path), ``snapshots`` and ``players`` (``runner.snapshots``, ``runner.players``); ``parts``
(their Protocols, and the council's and evolution loop's), ``core`` (``Runtime``).
"""

from ouroboros.server.runtime.core import Runtime
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.options import RuntimeOptions
from ouroboros.server.runtime.runner import WorldRunner

__all__ = ["Feed", "Runtime", "RuntimeOptions", "WorldRunner"]
