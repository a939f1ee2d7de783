"""Governance commands: ``keys`` and ``patch`` here; ``rollback``, ``ledger`` and ``killswitch``
in ``control``, with this module's helpers.

Every command takes ``--data DIR`` (default ``./ouroboros-data``). Exit codes: 0 done; 1 the
operation was refused (a rejected patch, an engaged kill-switch, an untrustworthy ledger or
keyring); 2 bad input (a missing or malformed file, a bad flag, a ``--data`` folder that does not
exist for a command that only reads it). ``--json`` prints one JSON object on stdout, also when
``patch submit``/``approve`` are refused. Private keys are never printed: only key ids and names.
``keys new --world neon`` founds a data folder for another world than the default (petri).

Every command that opens the folder takes ``--witness FILE`` (or ``OUROBOROS_WITNESS``) and
``--trust-root FINGERPRINT`` (or ``OUROBOROS_TRUST_ROOT``): the anchors outside the folder
(``patches.witness``). The first ``keys new`` prints the folder's trust root to pin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.boundary import EXIT_FAILED
from ouroboros.cli.boundary import command_boundary as _boundary
from ouroboros.cli.core import app
from ouroboros.errors import (
    BadInputError,
    LedgerError,
    PatchError,
)
from ouroboros.patches import anchor_notes, default_engine_compat

DataOption = Annotated[Path, typer.Option("--data", help="The data folder.")]
DEFAULT_DATA = Path("ouroboros-data")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the ledger).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
WitnessOption = Annotated[
    Path | None,
    typer.Option(
        "--witness",
        help="A file outside the data folder that witnesses the ledger's head (default: $OUROBOROS_WITNESS).",
        show_default=False,
    ),
]
TrustRootOption = Annotated[
    str | None,
    typer.Option(
        "--trust-root",
        help="The trust root(s) the folder must have, comma-separated (default: $OUROBOROS_TRUST_ROOT).",
        show_default=False,
    ),
]
KillFlag = Annotated[
    bool, typer.Option("--killswitch", help="Force the kill-switch engaged for this process.")
]

keys_app = typer.Typer(help="Signing keys and the keyring.", no_args_is_help=True)
patch_app = typer.Typer(help="Make, sign, verify, submit and decide on patches.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(patch_app, name="patch")


def _governor(
    data: Path,
    killswitch: bool = False,
    *,
    read_only: bool = False,
    world: str | None = None,
    witness: Path | None = None,
    trust_root: str | None = None,
) -> Any:
    """The governor of ``data``, held to its anchors (``witness``, ``trust_root``, else the
    environment's). A command that only reads (``read_only``) never creates the folder: a
    mistyped ``--data`` is bad input. ``world`` founds a new folder for that world."""
    from ouroboros.patches import WORLD_FILE, Governor
    from ouroboros.worlds import world_spec

    if data.exists() and not data.is_dir():
        raise BadInputError(f"--data {data} is not a folder")
    if read_only and not data.is_dir():
        raise BadInputError(f"--data {data}: no such folder")
    refuse_go_folder(data)
    defaults = None
    if world is not None:
        defaults = {"world": world, "seed": 0, "config": dict(world_spec(world).live_config)}
        existing = data / WORLD_FILE
        if existing.exists():
            named = _read_json(existing, "world file")
            if isinstance(named, dict) and named.get("world") != world:
                raise BadInputError(
                    f"{data} is set up for world {named.get('world')!r}, not {world!r} ({existing})"
                )
    return Governor(
        data, killswitch_forced=killswitch, world_defaults=defaults, witness=witness, trust_root=trust_root
    )


def refuse_go_folder(data: Path) -> None:
    """``ouroboros go --data DATA`` keeps one governed folder per world (``DATA/neon``,
    ``DATA/petri``); a command pointed at DATA itself is told which to use, rather than founding
    a third, unrelated folder there."""
    from ouroboros.patches import WORLD_FILE

    if (data / WORLD_FILE).exists():
        return
    worlds = sorted(p.parent.name for p in data.glob(f"*/{WORLD_FILE}"))
    if worlds:
        choices = " or ".join(f"--data {data / w}" for w in worlds)
        raise BadInputError(f"{data} holds the worlds of `ouroboros go` ({', '.join(worlds)}): use {choices}")


def _read_json(path: Path, what: str) -> Any:
    from ouroboros.patches import load_json

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    return load_json(data, f"{what} {path}")


def _write_json(path: Path, value: Any) -> None:
    from ouroboros.patches import write_atomic

    if not path.parent.is_dir():
        raise BadInputError(f"cannot write {path}: folder {path.parent} does not exist")
    write_atomic(path, (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode())


def _emit(as_json: bool, payload: Any, text: str) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, sort_keys=True))
    else:
        typer.echo(text)


def _check_attribution(actor: str, reason: str) -> None:
    if not actor.strip():
        raise BadInputError("--actor must not be empty")
    if not reason.strip():
        raise BadInputError("--reason must not be empty")


# -- keys ----------------------------------------------------------------------------------------
@keys_app.command("new")
def keys_new(
    name: Annotated[str, typer.Argument(help="Key name (lowercase, digits, - and _).")],
    domains: Annotated[str, typer.Option(help="Comma-separated domains this key may sign; * for all.")] = "*",
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    world: Annotated[
        str | None, typer.Option("--world", help="The world a new data folder is for (default petri).")
    ] = None,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Make a signing key and trust it (the first founds the keyring; later ones rotate it)."""
    with _boundary():
        names = [d.strip() for d in domains.split(",") if d.strip()]
        with _governor(data, world=world, witness=witness, trust_root=trust_root) as gov:
            key = gov.new_key(name, names, actor)
            ring = gov.keyring()
            root = gov.trust_root()
            notes = anchor_notes(gov.anchors, {"": root}) if ring.version == 1 else []  # founding
        path = data / "keys" / f"{name}.key"
        payload = {"name": name, "keyid": key.keyid, "key_file": str(path), "keyring_version": ring.version}
        _emit(
            as_json,
            payload | {"trust_root": root},
            f"key {name} {key.keyid}\nprivate key file {path} (keep it secret)\n"
            f"keyring version {ring.version}" + "".join(f"\n{note}" for note in notes),
        )


@keys_app.command("list")
def keys_list(
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """The trusted keys, their domains and the thresholds."""
    with _boundary(), _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
        ring = gov.keyring()
        keys = [{"keyid": k.keyid, "name": k.name, "domains": sorted(k.domains)} for k in ring.keys.values()]
        keys.sort(key=lambda k: k["name"])
        lines = [f"keyring version {ring.version}"]
        lines += [f"  {k['name']:<16} {k['keyid'][:16]}  {','.join(k['domains'])}" for k in keys]
        lines.append("thresholds: " + ", ".join(f"{d}={n}" for d, n in sorted(ring.thresholds.items())))
        _emit(
            as_json, {"version": ring.version, "keys": keys, "thresholds": ring.thresholds}, "\n".join(lines)
        )


# -- patch ---------------------------------------------------------------------------------------
@patch_app.command("new")
def patch_new(
    content: Annotated[Path, typer.Option("--content", help="A content JSON file (see examples/patches).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the unsigned bundle.")],
    data: DataOption = DEFAULT_DATA,
    author_type: Annotated[str, typer.Option(help="human, operator, generator or llm.")] = "human",
    model: Annotated[str | None, typer.Option(help="The model that wrote it, if any.")] = None,
    run_id: Annotated[str | None, typer.Option(help="The generator run that made it, if any.")] = None,
    ttl_hours: Annotated[int, typer.Option(help="Hours until the bundle expires.")] = 168,
    engine_compat: Annotated[str | None, typer.Option(help="Engine versions (PEP 440 range).")] = None,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Make an unsigned bundle whose parent is the active version."""
    from ouroboros.content import parse_content, parse_envelope
    from ouroboros.patches import MAX_BUNDLE_LIFETIME, new_bundle

    with _boundary():
        max_hours = int(MAX_BUNDLE_LIFETIME.total_seconds()) // 3600
        if not 1 <= ttl_hours <= max_hours:
            raise BadInputError(f"--ttl-hours must be between 1 and {max_hours}")
        body = _read_json(content, "content file")
        parse_content(body)  # refuse a bad content file now, with its reasons
        with _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
            active = gov.active()
            sequence = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
            doc = new_bundle(
                body,
                world=gov.world_name,
                parent_patch_id=active,
                sequence=sequence,
                author={"type": author_type, "model": model, "run_id": run_id},
                engine_compat=engine_compat if engine_compat is not None else default_engine_compat(),
                ttl=timedelta(hours=ttl_hours),
            )
        parse_envelope(doc)  # refuse a bad --author-type or --engine-compat now, not at submit
        _write_json(output, doc)
        typer.echo(f"{doc['patch_id']} written to {output} (unsigned; parent {active or 'base'})")


@patch_app.command("sign")
def patch_sign(
    bundle: Annotated[Path, typer.Argument(help="The bundle to sign (rewritten in place unless -o).")],
    key: Annotated[str, typer.Option("--key", help="A key name in DATA/keys or a key file path.")],
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
    data: DataOption = DEFAULT_DATA,
) -> None:
    """Add a signature (one key at a time; a threshold needs several)."""
    from ouroboros.patches import SigningKey, sign_bundle

    with _boundary():
        doc = _read_json(bundle, "bundle")
        path = Path(key)
        signer = SigningKey.load(path if path.suffix else data / "keys" / f"{key}.key")
        signed = sign_bundle(doc, signer)
        _write_json(output or bundle, signed)
        typer.echo(f"signed {signed['patch_id']} with {signer.name} ({signer.keyid[:16]})")


def _print_verdict(verdict: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(verdict.as_dict(), ensure_ascii=False, sort_keys=True, default=str))
        return
    typer.echo(f"{verdict.patch_id or '(no id)'}: {verdict.state}{' (dry run)' if verdict.dry_run else ''}")
    for r in verdict.reasons:
        typer.echo(f"  [{r.stage}] {r.code} at {r.path or '/'}: {r.message}")
    if verdict.evidence.get("awaiting"):
        typer.echo(f"  {verdict.evidence['awaiting']}")


@patch_app.command("verify")
def patch_verify(
    bundle: Annotated[Path, typer.Argument()],
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Check integrity (hash, signatures, keys, lineage, expiry) and schema, changing nothing."""
    from ouroboros.patches import Refused, Verdict, verify

    with _boundary():
        doc = _read_json(bundle, "bundle")
        with _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
            door = verify(doc, gov.keyring(), gov.ledger, gov.active(), gov.world_name)
        reasons, evidence = (
            (door.reasons, door.evidence) if isinstance(door, Refused) else ([], door.evidence())
        )
        pid = doc.get("patch_id") if isinstance(doc, dict) else None
        verdict = Verdict(
            pid if isinstance(pid, str) else None,
            "verified" if not reasons else "rejected",
            reasons,
            evidence,
            dry_run=True,
        )
        _print_verdict(verdict, as_json)
    if reasons:
        raise typer.Exit(EXIT_FAILED)


@patch_app.command("submit")
def patch_submit(
    bundle: Annotated[Path, typer.Argument()],
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; record nothing.")] = False,
    killswitch: KillFlag = False,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Run a bundle through the whole pipeline; print its final state and any reasons."""
    with _boundary():
        doc = _read_json(bundle, "bundle")
        with (
            _governor(data, killswitch, witness=witness, trust_root=trust_root) as gov,
            _refusal_as_json(as_json, doc),
        ):
            verdict = gov.submit(doc, actor=actor, dry_run=dry_run)
        _print_verdict(verdict, as_json)
    if not verdict.ok:
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def _refusal_as_json(as_json: bool, doc_or_id: Any) -> Iterator[None]:
    """With ``--json``, a refused operation (kill-switch, ledger) still prints one JSON object
    (state ``refused`` and the reason) on stdout before the error line; exit 1 either way."""
    try:
        yield
    except (PatchError, LedgerError) as exc:
        if as_json:
            from ouroboros.errors import Reason
            from ouroboros.patches import REFUSED, Verdict

            pid = doc_or_id.get("patch_id") if isinstance(doc_or_id, dict) else doc_or_id
            stage = "policy" if isinstance(exc, PatchError) else "ledger"
            verdict = Verdict(
                pid if isinstance(pid, str) else None, REFUSED, [Reason(stage, exc.code, "", exc.message)]
            )
            _print_verdict(verdict, True)
        raise


@patch_app.command("list")
def patch_list(
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Every patch the ledger knows, oldest first, with its state."""
    with _boundary(), _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
        rows = gov.ledger.patches()
        active = gov.active()
    lines = [
        f"{'*' if r['patch_id'] == active else ' '} {r['sequence']:>4}  {r['patch_id']}  {r['state']}"
        for r in rows
    ]
    _emit(as_json, {"active": active, "patches": rows}, "\n".join(lines) or "no patches yet")


@patch_app.command("show")
def patch_show(
    patch_id: Annotated[str, typer.Argument()],
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """A patch's bundle, state and history."""
    with _boundary(), _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
        bundle = gov.ledger.bundle(patch_id)
        if bundle is None:
            raise BadInputError(f"unknown patch {patch_id}")
        history = [e.as_dict() for e in gov.ledger.entries(patch_id=patch_id)]
        state = gov.ledger.state_of(patch_id)
    payload = {"patch_id": patch_id, "state": str(state), "bundle": bundle, "history": history}
    lines = [
        f"{patch_id}: {state}",
        f"  parent {bundle.get('parent_patch_id') or 'base'}, sequence {bundle.get('sequence')}",
        f"  author {bundle.get('author')}",
    ]
    lines += [
        f"  {e['at']}  {e['before'] or '-':>10} → {e['after'] or '-':<11} {e['actor']}: {e['reason']}"
        for e in history
        if e["kind"] == "transition"
    ]
    _emit(as_json, payload, "\n".join(lines))


@patch_app.command("approve")
def patch_approve(
    patch_id: Annotated[str, typer.Argument()],
    actor: ActorOption,
    reason: ReasonOption,
    data: DataOption = DEFAULT_DATA,
    killswitch: KillFlag = False,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Approve a validated patch: it runs as a canary, then becomes active."""
    with _boundary():
        _check_attribution(actor, reason)
        with (
            _governor(data, killswitch, witness=witness, trust_root=trust_root) as gov,
            _refusal_as_json(as_json, patch_id),
        ):
            verdict = gov.approve(patch_id, actor, reason)
        _print_verdict(verdict, as_json)
    if not verdict.ok:
        raise typer.Exit(EXIT_FAILED)


@patch_app.command("reject")
def patch_reject(
    patch_id: Annotated[str, typer.Argument()],
    actor: ActorOption,
    reason: ReasonOption,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Reject a patch that is waiting for a decision."""
    with _boundary():
        _check_attribution(actor, reason)
        with _governor(data, witness=witness, trust_root=trust_root) as gov:
            verdict = gov.reject(patch_id, actor, reason)
        _print_verdict(verdict, as_json)


@patch_app.command("hash")
def patch_hash(
    file: Annotated[Path, typer.Argument(help="Any JSON file.")],
    data: DataOption = DEFAULT_DATA,  # accepted like every command; hashing needs no data folder
) -> None:
    """Print the sha256 (hex) of the RFC 8785 canonical form of a JSON file."""
    from ouroboros.patches import sha256_hex

    with _boundary():
        typer.echo(sha256_hex(_read_json(file, "JSON file")))


# ``rollback``, ``ledger`` and ``killswitch`` live in ``control``, which uses this module's helpers.
from ouroboros.cli import control as _control  # noqa: E402, F401

__all__ = ["default_engine_compat"]
