"""``ouroboros models``: which provider and model serve which council role, and how they do.

``models list`` prints the assignment of the active version (a role without one is served by the
offline provider); ``models set ROLE --provider P --model M [--base-url U]`` makes the
``model_roles`` patch that changes one role, signs it with ``--key`` and runs it through the
governance pipeline, so ``ouroboros rollback`` restores the model before it; ``models stats``
prints each role's and model's calls, failures, acceptance, latency, tokens and cost (from
``ai.sqlite3``, priced by the operator's ``llm-prices.json``); ``models key`` stores a hosted
provider's API key, read from stdin, in ``llm-keys.json`` (mode 0600; keys never go into a patch,
a log or the ledger; ``OUROBOROS_LLM_KEY_<ROLE>`` / ``OUROBOROS_LLM_API_KEY`` work too).
Exit codes: 0 done; 1 refused (the pipeline, the kill-switch); 2 bad input (one line on stderr).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from ouroboros.cli.core import EXIT_FAILED, app
from ouroboros.cli.governance import (
    DEFAULT_DATA,
    ActorOption,
    DataOption,
    JsonFlag,
    _boundary,
    _governor,
    _print_verdict,
    _refusal_as_json,
)
from ouroboros.errors import BadInputError

models_app = typer.Typer(help="Which model serves which council role (governed), and its stats.")
app.add_typer(models_app, name="models", no_args_is_help=True)


def _require_governed(data: Path) -> None:
    from ouroboros.patches import WORLD_FILE

    if not data.is_dir():
        raise BadInputError(f"--data {data}: no such folder")
    from ouroboros.cli.governance import refuse_go_folder

    refuse_go_folder(data)
    if not (data / WORLD_FILE).is_file():
        raise BadInputError(f"--data {data} is not a governed data folder (no {WORLD_FILE})")


def _emit(as_json: bool, payload: Any, text: str) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str))
    else:
        typer.echo(text)


@models_app.command("list")
def models_list(data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """Each role's provider and model in the active version."""
    from ouroboros.ai.llm import ModelRegistry

    with _boundary():
        _require_governed(data)
        with _governor(data, read_only=True) as gov:
            registry = ModelRegistry.from_content(gov.active_content())
            roles = {role: a.as_dict() for role, a in sorted(registry.assignments().items())}
            registry.close()
    lines = [
        f"{role:<10} {a['provider']:<8} {a['model']}"
        + (f" at {a['base_url']}" if a["base_url"] else "")
        + (f" (v{a['version']})" if a["version"] else " (default)")
        for role, a in roles.items()
    ]
    _emit(as_json, {"roles": roles}, "\n".join(lines))


@models_app.command("set")
def models_set(
    role: Annotated[str, typer.Argument(help="flavour, dialogue, trait_code or narrative.")],
    provider: Annotated[str, typer.Option("--provider", help="offline, ollama or openai.")],
    model: Annotated[str, typer.Option("--model", help="The model name the server knows.")],
    key: Annotated[str, typer.Option("--key", help="A key in DATA/keys that may sign model_roles.")],
    base_url: Annotated[str | None, typer.Option("--base-url", help="The server (not for offline).")] = None,
    structured: Annotated[
        str, typer.Option("--structured", help="response_format or vllm (OpenAI-compatible servers).")
    ] = "response_format",
    data: DataOption = DEFAULT_DATA,
    actor: ActorOption = "operator",
    as_json: JsonFlag = False,
) -> None:
    """Serve ROLE with MODEL: a signed model_roles patch through the pipeline (undo: rollback)."""
    from ouroboros.ai.llm import registry_patch
    from ouroboros.patches import default_engine_compat, new_bundle, sign_bundle

    with _boundary():
        _require_governed(data)
        with _governor(data, read_only=True) as gov:
            content = registry_patch(
                role, provider, model, base_url=base_url, structured=structured, current=gov.active_content()
            )
            signing_key = gov.local_key(key)
            active = gov.active()
            sequence = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
            doc = new_bundle(
                content,
                world=gov.world_name,
                parent_patch_id=active,
                sequence=sequence,
                author={"type": "operator", "model": None, "run_id": f"models-set:{role}"},
                engine_compat=default_engine_compat(),
                ttl=timedelta(hours=1),
            )
            doc = sign_bundle(doc, signing_key)
            with _refusal_as_json(as_json, doc):
                verdict = gov.submit(doc, actor=actor)
        _print_verdict(verdict, as_json)
    if not verdict.ok:
        raise typer.Exit(EXIT_FAILED)


@models_app.command("stats")
def models_stats(data: DataOption = DEFAULT_DATA, as_json: JsonFlag = False) -> None:
    """Per role and model: calls, failures, acceptance, latency, tokens and cost."""
    from ouroboros.ai.llm import ModelRegistry
    from ouroboros.ai.llm.keys import PRICE_FILE, PriceTable
    from ouroboros.ai.store import AI_DB

    with _boundary():
        _require_governed(data)
        prices = PriceTable.load(data / PRICE_FILE)
        rows: list[dict[str, Any]] = []
        if (data / AI_DB).is_file():  # nothing recorded yet: nothing to read, nothing written
            registry = ModelRegistry(db_path=data / AI_DB)
            rows = registry.stats()
            registry.close()
    cost_by_role: dict[str, float] = {}
    for r in rows:
        r["cost_usd"], r["priced"] = prices.cost(r["model"], r["tokens_in"], r["tokens_out"])
        cost_by_role[r["role"]] = round(cost_by_role.get(r["role"], 0.0) + r["cost_usd"], 6)
    lines = [
        f"{r['role']:<10} {r['model']:<24} calls {r['calls']}, failures {r['failures']}, "
        f"accepted {r['accepted']} ({r['acceptance_permille']} permille), "
        f"latency mean {r['latency_ms_mean']} ms, max {r['latency_ms_max']} ms, "
        f"tokens {r['tokens_in']} in / {r['tokens_out']} out, "
        + (f"cost ${r['cost_usd']:.6f}" if r["priced"] else f"no price set in {PRICE_FILE}")
        for r in rows
    ]
    lines += [f"cost of {role}: ${cost:.6f}" for role, cost in sorted(cost_by_role.items())]
    _emit(
        as_json,
        {"stats": rows, "cost_by_role": cost_by_role},
        "\n".join(lines) or "no model calls recorded yet",
    )


@models_app.command("key")
def models_key(
    role: Annotated[str | None, typer.Option("--role", help="The role this key serves.")] = None,
    server: Annotated[str | None, typer.Option("--server", help="Or: the base URL it serves.")] = None,
    data: DataOption = DEFAULT_DATA,
) -> None:
    """Store an API key, read from stdin (never from the command line), in DATA/llm-keys.json (0600)."""
    import sys

    from ouroboros.ai.llm import ROLES
    from ouroboros.ai.llm.keys import KEY_FILE, write_key

    with _boundary():
        _require_governed(data)
        if role is not None and role not in ROLES:
            raise BadInputError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
        if (role is None) == (server is None):
            raise BadInputError("give --role or --server (one of them)")
        if server is not None and not server.startswith(("http://", "https://")):
            raise BadInputError(f"--server must start with http:// or https://, got {server!r}")
        if sys.stdin.isatty():  # typed: not echoed
            import getpass

            key = getpass.getpass("API key: ").strip()
        else:
            key = sys.stdin.readline().strip()
        if not key:
            raise BadInputError("no key on stdin (pipe it in: printenv MY_KEY | ouroboros models key ...)")
        write_key(data / KEY_FILE, key, role=role, server=server)
    typer.echo(f"stored the key for {role or server} in {data / KEY_FILE} (readable by you only)")


__all__ = ["models_app"]
