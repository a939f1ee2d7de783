"""Commands that move, check or stop the governed history: ``rollback``, ``ledger``, ``killswitch``.

They take ``--data``, ``--witness`` and ``--trust-root`` like every governance command (see
``governance`` for the exit codes). ``ledger`` verifies the whole chain and what it vouches for,
says which key signed the head and which anchors hold the folder, and with ``--rewrite-mirror``
rewrites a lost pointer file on the operator's recorded word (``patches.repair``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.core import app
from ouroboros.cli.governance import (
    DEFAULT_DATA,
    ActorOption,
    DataOption,
    JsonFlag,
    KillFlag,
    ReasonOption,
    TrustRootOption,
    WitnessOption,
    _boundary,
    _check_attribution,
    _emit,
    _governor,
)
from ouroboros.errors import BadInputError
from ouroboros.patches import anchor_notes

killswitch_app = typer.Typer(
    help="Stop (or allow) new AI patches; the game keeps running.", no_args_is_help=True
)
app.add_typer(killswitch_app, name="killswitch")


@app.command("rollback")
def rollback(
    actor: ActorOption = "operator",
    reason: ReasonOption = "operator rollback",
    to: Annotated[str | None, typer.Option("--to", help="A known-good patch id, or 'base'.")] = None,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Go back to a known-good version (default: the one before the active one), in one step."""
    with _boundary():
        _check_attribution(actor, reason)
        with _governor(data, witness=witness, trust_root=trust_root) as gov:
            result = gov.rollback(actor, reason, None if to == "base" else to, to_base=to == "base")
        _emit(as_json, result, f"rolled back from {result['from']} to {result['to'] or 'base'}")


@app.command("ledger")
def ledger(
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
    rewrite_mirror: Annotated[
        bool,
        typer.Option(
            "--rewrite-mirror",
            help="Write a lost or damaged active.json again from the checked ledger (recorded; "
            "needs --actor and --reason).",
        ),
    ] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who rewrites the pointer file.")] = "",
    reason: Annotated[str, typer.Option("--reason", help="Why it was lost.")] = "",
) -> None:
    """Verify the ledger's hash chain (and the content, bundles and pointer it vouches for) and
    print its entries."""
    if rewrite_mirror:
        from ouroboros.patches import Anchors
        from ouroboros.patches import rewrite_mirror as rewrite

        with _boundary():
            if not data.is_dir():
                raise BadInputError(f"--data {data}: no such folder")
            done = rewrite(data, actor, reason, Anchors.resolve(witness=witness, trust_root=trust_root))
        typer.echo(f"pointer file rewritten (it was {done['was']}), recorded in the ledger", err=as_json)
    with _boundary(), _governor(data, read_only=True, witness=witness, trust_root=trust_root) as gov:
        count = gov.ledger.verify()
        entries = [e.as_dict() for e in gov.ledger.entries()]
        pointer = gov.ledger.pointer().as_dict()
        root, anchors = gov.trust_root(), gov.anchors
        signed = gov.ledger.signed_head()
    head_signed = signed is not None and signed[:2] == (pointer["head_seq"], pointer["head_hash"])
    signer = signed[2] if signed is not None and head_signed else None
    if as_json:
        payload = {"verified": True, "entries": entries, "pointer": pointer, "trust_root": root}
        payload["head_signed_by"] = signer
        payload["anchored"] = {
            "trust_root": root in anchors.trust_roots,
            "witness": str(anchors.witness or ""),
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    lines = [
        f"ledger verified: {count} entries, head {pointer['head_hash'][:16]}, "
        f"active {pointer['active'] or 'base'}, "
        + (f"head signed by key {signer[:16]}" if signer else "head not signed"),
        *anchor_notes(anchors, {"": root}),
    ]
    for e in entries:
        change = f"{e['before'] or '-'} → {e['after'] or '-'}" if e["before"] or e["after"] else ""
        lines.append(
            f"{e['seq']:>5} {e['at']} {e['kind']:<10} {e['patch_id'] or '':<34} {change}  "
            f"{e['actor']}: {e['reason']}"
        )
    typer.echo("\n".join(lines))


def _killswitch_set(
    engaged: bool, data: Path, actor: str, reason: str, as_json: bool, anchors: dict[str, Any]
) -> None:
    with _boundary():
        _check_attribution(actor, reason)
        with _governor(data, **anchors) as gov:
            state = gov.killswitch.set(engaged, actor, reason)
        _emit(
            as_json,
            state.as_dict(),
            f"kill-switch {'engaged' if state.engaged else 'released'} ({state.cause})",
        )


@killswitch_app.command("engage")
def killswitch_engage(
    actor: ActorOption,
    reason: ReasonOption,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Stop every new AI patch (the running version keeps running)."""
    _killswitch_set(True, data, actor, reason, as_json, {"witness": witness, "trust_root": trust_root})


@killswitch_app.command("release")
def killswitch_release(
    actor: ActorOption,
    reason: ReasonOption,
    data: DataOption = DEFAULT_DATA,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Allow new patches again."""
    _killswitch_set(False, data, actor, reason, as_json, {"witness": witness, "trust_root": trust_root})


@killswitch_app.command("status")
def killswitch_status(
    data: DataOption = DEFAULT_DATA,
    killswitch: KillFlag = False,
    as_json: JsonFlag = False,
    witness: WitnessOption = None,
    trust_root: TrustRootOption = None,
) -> None:
    """Whether new patches may get in, and why."""
    with (
        _boundary(),
        _governor(data, killswitch, read_only=True, witness=witness, trust_root=trust_root) as gov,
    ):
        state = gov.killswitch.state()
    _emit(
        as_json,
        state.as_dict(),
        f"kill-switch {'engaged' if state.engaged else 'released'} ({state.cause})"
        + (f", by {state.actor}: {state.reason}" if state.actor else ""),
    )


__all__ = ["killswitch_app"]
