"""``ouroboros players``: help a player, locally — the data folder is the authority.

``players list --data DIR``, ``players show NAME --data DIR`` and ``players move NAME ROOM_ID
--data DIR [--actor WHO] [--reason WHY]`` work on the played world (a world with a ``spec.game``)
of a ``go`` data folder: handed to the running ``go`` when one runs it (through
``DATA/<world>/inbox/``, answered between two ticks, the player told at once; a world run as
shards answers for every shard, each entry with its ``shard``), else on the saved
world itself (the move lands when it is next loaded: the
player is told on their next tick online). A world last run as shards lists every saved shard's
characters offline, each once, and refuses a move there (as the running go refuses to move a
character no shard holds). Every move is written to the server's audit table
(actor ``local:WHO``) when the folder has one. Exit codes: 0 done; 2 bad input (no such folder,
no city there, unknown player or room), one line on stderr; 1 the running world did not answer.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.boundary import command_boundary
from ouroboros.cli.boundary import fail as _fail
from ouroboros.cli.core import app
from ouroboros.worlds.spec import GameHook

players_app = typer.Typer(help="The city's players: list, show, move a stuck one (local authority).")
app.add_typer(players_app, name="players", no_args_is_help=True)

DataOption = Annotated[
    Path, typer.Option("--data", help="The go data folder (or its played world's folder).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
DEFAULT_DATA = Path("ouroboros-data")


def _city_folder(data: Path) -> tuple[Path, GameHook]:
    """The folder of the played world in ``data`` (``data`` itself, or a world's folder in it),
    and that world's game."""
    from ouroboros.worlds import registry

    if not data.is_dir():
        _fail(f"--data {data}: no such folder")
    played = {name: spec.game for name, spec in sorted(registry().items()) if spec.game is not None}
    for folder in [*(data / name for name in played), data]:
        for game in played.values():
            if game.saved(folder) or (folder / "world.json").is_file():
                return folder, game
    _fail(f"--data {data} holds no played world (ouroboros go --world {' / '.join(played)} makes one)")


def _run(data: Path, request: dict[str, Any]) -> Any:
    """The request answered by the running go, or done on the saved city."""
    from ouroboros.server.runtime.inbox import ask, unless_go_runs

    folder, game = _city_folder(data)
    with command_boundary():
        with unless_go_runs(folder) as offline:
            if offline:
                return _offline(folder, game, request)
        return ask(folder, request)


def _shard_folders(folder: Path, game: GameHook) -> list[Path]:
    """The saved shards of a world last run as shards (``go --shards``), after the first (the
    world's folder itself); none for a world run alone."""
    from ouroboros.server.runtime.shard_characters import CHARACTERS_FILE
    from ouroboros.server.runtime.shards import SHARDS_DIR

    shards = folder / SHARDS_DIR
    if not (folder / CHARACTERS_FILE).is_file() or not shards.is_dir():
        return []
    found = [p for p in shards.iterdir() if p.is_dir() and p.name.isdigit() and game.saved(p)]
    return sorted(found, key=lambda p: int(p.name))


def _offline_sharded(shard_folders: list[Path], game: GameHook, world: Any, request: dict[str, Any]) -> Any:
    """A world last run as shards, with no go running: every shard's characters, each once (the
    first shard's copy that has it), none held (``shard``: None), as the running go lists a
    character no shard holds; a move is refused, as it is there (the character store's record
    would undo it when the character enters again)."""
    from ouroboros.errors import BadInputError, ShardedRestoreError

    if request["op"] == "restore_cost":
        raise ShardedRestoreError(
            f"this world was last run as {len(shard_folders) + 1} shards and a snapshot holds shard 0 only: "
            "a restore would be refused, so there is nothing to count. Start go without --shards first"
        )
    worlds = [world] + [w for w in (game.load(p) for p in shard_folders) if w is not None]
    found: dict[str, tuple[dict[str, Any], Any]] = {}  # each character's entry and the world it is from
    for each in worlds:
        for entry in game.players(each):
            found.setdefault(str(entry["name"]), ({**entry, "online": False, "shard": None}, each))
    if request["op"] == "list":
        return [found[name][0] for name in sorted(found)]
    name = request["name"]
    if name not in found:
        game.player(world, name)  # raises the world's own "no such player"
        raise BadInputError(f"no player {str(name)[:80]!r}")
    if request["op"] == "show":
        return {**game.player(found[name][1], name), "online": False, "shard": None}
    raise BadInputError(
        f"{name} belongs to a world run as shards and no shard holds them now: start go and move "
        "them once they are online (a move here would be undone by their record in the character store)"
    )


def _offline(folder: Path, game: GameHook, request: dict[str, Any]) -> Any:
    from ouroboros.errors import BadInputError

    world = game.load(folder)
    if world is None:
        raise BadInputError(f"{folder} has no saved world yet")
    shard_folders = _shard_folders(folder, game)
    if shard_folders:
        return _offline_sharded(shard_folders, game, world, request)
    if request["op"] == "list":
        return game.players(world)
    if request["op"] == "show":
        return game.player(world, request["name"])
    if request["op"] == "restore_cost":
        return _offline_cost(folder, game, world, request["snapshot"], request["mode"])
    moved = game.check_move(world, request["name"], request["room"])
    payload = {k: request[k] for k in ("name", "room", "actor", "reason")}
    world.submit(game.move_input, payload)
    world.step()  # the move lands at a tick boundary, as in a running world
    game.save(world, folder)
    return {**moved, "applies_at_tick": world.tick}


def _offline_cost(folder: Path, game: GameHook, world: Any, snapshot_id: str, mode: str) -> dict[str, Any]:
    from ouroboros.errors import BadInputError
    from ouroboros.server.runtime.snapshots import RESTORE_MODES, SNAPSHOT_ID

    if mode not in RESTORE_MODES:
        raise BadInputError(f"--mode must be one of {', '.join(RESTORE_MODES)}")
    path = folder / "snapshots" / f"{snapshot_id}.snapshot"
    if not SNAPSHOT_ID.match(snapshot_id) or not path.is_file():
        raise BadInputError(f"no snapshot {snapshot_id!r} in {folder / 'snapshots'}")
    now = game.characters(world)
    then_world = world.fork()
    then_world.restore(path.read_bytes())
    then = game.characters(then_world) if mode == "everything" else None
    return {"mode": mode, "players": game.restore_cost(now, then)}


def _audit(data: Path, actor: str, path: str, reason: str) -> None:
    from ouroboros.server.api.auth import DB_FILE, AuthStore

    root = data if (data / DB_FILE).is_file() else data.parent
    if not (root / DB_FILE).is_file():
        return
    store = AuthStore(root)
    try:
        store.audit(actor=actor, role="local", method="CLI", path=path, status=200, reason=reason,
                    request_id=uuid.uuid4().hex)  # fmt: skip
    finally:
        store.close()


@players_app.command("list")
def list_players(data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """Every character: where they stand, online or not, numbers and jobs."""
    found = _run(data, {"op": "list"})
    if as_json:
        typer.echo(json.dumps(found))
        return
    for p in found:
        state = "online" if p["online"] else "offline"
        where = f"  on {p['shard'] or 'no shard'}" if "shard" in p else ""
        typer.echo(f"{p['name']:<20} {state:<8} {p['room']}  xp {p['xp']}, credits {p['credits']}{where}")


@players_app.command("show")
def show_player(name: str, data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """One character, in full."""
    found = _run(data, {"op": "show", "name": name})
    if as_json:
        typer.echo(json.dumps(found))
        return
    for key, value in found.items():
        typer.echo(f"{key}: {value}")


@players_app.command("restore-cost")
def restore_cost(
    snapshot_id: str,
    data: DataOption = DEFAULT_DATA,
    mode: Annotated[
        str, typer.Option("--mode", help="world_only (keep characters) or everything.")
    ] = "world_only",
    as_json: JsonFlag = False,
) -> None:
    """What restoring SNAPSHOT_ID would take from each player: xp, credits, items, jobs."""
    found = _run(data, {"op": "restore_cost", "snapshot": snapshot_id, "mode": mode})
    if as_json:
        typer.echo(json.dumps(found))
        return
    typer.echo(f"restore {snapshot_id} ({found['mode']}): what each player loses")
    for p in found["players"]:
        lost = (
            "the whole character"
            if p["character_lost"]
            else (f"xp {p['xp']}, credits {p['credits']}, items {p['items']}, jobs {p['jobs']}")
        )
        typer.echo(f"  {p['player']:<20} {lost}")


@players_app.command("move")
def move_player(
    name: str,
    room_id: str,
    data: DataOption = DEFAULT_DATA,
    actor: Annotated[str, typer.Option("--actor", help="Who moves them (they are told).")] = "operator",
    reason: Annotated[
        str, typer.Option("--reason", help="Why (they are told).")
    ] = "an operator helped you out",
    as_json: JsonFlag = False,
) -> None:
    """Move NAME to ROOM_ID; they are told who moved them, where and why."""
    if not actor.strip() or not reason.strip() or len(actor) > 100 or len(reason) > 200:
        _fail("--actor (at most 100 characters) and --reason (at most 200) must not be empty")
    request = {"op": "move", "name": name, "room": room_id, "actor": f"local:{actor.strip()}",
               "reason": reason.strip()}  # fmt: skip
    moved = _run(data, request)
    _audit(data, request["actor"], f"players move {name} {room_id}", request["reason"])
    if as_json:
        typer.echo(json.dumps(moved))
        return
    typer.echo(f"{name}: {moved['from']} -> {moved['to']} ({moved['room_name']})")
