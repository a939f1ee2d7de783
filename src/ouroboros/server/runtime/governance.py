"""A live world's governance, on its control thread: the governed folder, parameters, patches.

``<data>/<world>/`` holds ``world.json``, the ledger, the keyring and the runtime's ``server``
signing key (made on first start). The governor's SQLite connections belong to the thread that
opened them, so every call that touches it is handed to the world's control thread
(``runner.call(fn)``). petri parameters are world inputs (checked now, applied at the next tick
boundary); neon's are a governed ``world_params`` patch signed by the server key.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ouroboros.engine import World
from ouroboros.errors import BadInputError, OuroborosError, Reason, RejectedError
from ouroboros.patches import write_atomic
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.options import CONTROL_TIMEOUT_S, SERVER_KEY, RuntimeOptions

T = TypeVar("T")

#: The governed object that holds the city's parameters (the base world has it at 1.0.0).
NEON_PARAMS_ID = "neon.params.base"
#: The ledger entry that keeps the reason an operator gave for a change the runtime submitted.
REASON_ENTRY = "operator_reason"


class GovernedRunner:
    """The governance half of a ``WorldRunner`` (see ``runner``)."""

    name: str
    folder: Path
    options: RuntimeOptions
    feed: Feed
    lock: threading.RLock
    world: World
    governor: Any
    council: Any
    evolution: Any
    _control: ThreadPoolExecutor

    def call(self, fn: Callable[[], T], timeout_s: float = CONTROL_TIMEOUT_S) -> T:
        """Run ``fn`` on this world's control thread (where the governor lives) and return its
        result or raise its error."""
        return self._control.submit(fn).result(timeout=timeout_s)

    def _open_governance(self) -> None:
        from ouroboros.patches import DEFAULT_WORLD, Governor

        self.folder.mkdir(parents=True, exist_ok=True)
        if self.name == "petri":
            defaults: dict[str, Any] = dict(DEFAULT_WORLD)
            if self.options.petri_config is not None:
                defaults["config"] = dict(self.options.petri_config)
        else:
            defaults = {"world": self.name, "seed": 0, "config": {}}
        if self.options.seed is not None:
            defaults["seed"] = self.options.seed
        if self.options.governance_budgets:
            defaults["budgets"] = dict(self.options.governance_budgets)
        world_file = self.folder / "world.json"
        if self.options.fresh and world_file.exists():
            # a fresh world may take a new seed or size: the folder's patches then apply to it
            doc = json.loads(world_file.read_bytes())
            if isinstance(doc, dict):
                doc["seed"] = defaults["seed"] if self.options.seed is not None else doc.get("seed", 0)
                if self.name == "petri" and self.options.petri_config is not None:
                    doc["config"] = defaults["config"]
                write_atomic(world_file, (json.dumps(doc, sort_keys=True) + "\n").encode())
        self.governor = Governor(
            self.folder,
            world_defaults=defaults,
            witness=self.options.witness,
            trust_root=self.options.trust_root,
        )
        if self.governor.world_name != self.name:
            raise BadInputError(f"{self.folder} is set up for world {self.governor.world_name!r}")
        recorded = self.governor.settings.get("seed", 0)
        if self.options.seed is not None and recorded != self.options.seed:
            raise BadInputError(
                f"the saved {self.name} world has seed {recorded}, not {self.options.seed}"
                " (use --fresh to start over)"
            )
        if not (self.governor.keys_dir / f"{SERVER_KEY}.key").exists():
            self.governor.new_key(SERVER_KEY, ["*"], actor="ouroboros go")
        #: the folder's trust root and anchors, for ``go`` to tell the operator
        self.trust_root: str | None = self.governor.trust_root()
        self.anchors = self.governor.anchors

    def _close_governance(self) -> None:
        for part in (self.evolution, self.council):
            if part is not None and hasattr(part, "close"):
                with contextlib.suppress(Exception):
                    part.close()
        if self.governor is not None:
            with contextlib.suppress(Exception):
                self.governor.close()
            self.governor = None

    def rollback(
        self, actor: str, reason: str, to: str | None = None, *, to_base: bool = False
    ) -> dict[str, Any]:
        """On the control thread: the governor's rollback, with an automatic snapshot first when it
        takes back more than one version."""
        gov = self.governor
        lineage: list[str] = []
        node = gov.ledger.pointer().active
        while node is not None and node != to:
            lineage.append(node)
            node = gov.ledger.parent_of(node)
        undoes = len(lineage) if (to_base or to is not None) else min(1, len(lineage))
        if undoes > 1:
            self.auto_snapshot(f"before a rollback over {undoes} versions", actor)  # type: ignore[attr-defined]
        result: dict[str, Any] = gov.rollback(actor, reason, to, to_base=to_base)
        return result

    def settings(self) -> dict[str, Any]:
        return dict(self.call(lambda: self.governor.settings))

    def params(self) -> dict[str, int]:
        with self.lock:
            if self.name == "neon":
                from ouroboros.worlds.neon.tables import tables

                return dict(tables(self.world).params)
            return {k: int(v) for k, v in self.world.resources.get("params", {}).items()}

    def set_params(self, values: Mapping[str, int], actor: str, reason: str) -> dict[str, Any]:
        """petri: ``set_param`` inputs (checked now, applied at the next tick boundary). neon: a
        governed ``world_params`` patch signed by the server key, every value range-checked first
        (``BadInputError``); its verdict is returned when the patch is active or held for a human,
        and ``ParamsRejected`` (a ``RejectedError`` carrying the verdict) raised when the pipeline
        refuses it. A new ``tick_hz`` sets the city's pace at the tick the version lands."""
        if self.name == "neon":
            return self._propose_neon_params(values, actor, reason)
        with self.lock:
            checked = []
            from ouroboros.worlds.petri.params import check_param

            for name, value in values.items():
                try:
                    checked.append(check_param(name, value))
                except OuroborosError as exc:
                    raise BadInputError(exc.message) from exc
            for name, value in checked:
                self.world.submit("set_param", {"name": name, "value": value})
        self.feed.publish("params", self.name, actor=actor, reason=reason, params=dict(checked))
        return {"world": self.name, "queued": dict(checked), "applies_at_tick": self.world.tick + 1}

    def _propose_neon_params(self, values: Mapping[str, int], actor: str, reason: str) -> dict[str, Any]:
        from ouroboros.worlds.neon.params import DEFAULT_PARAMS, param_problem

        if not values:
            raise BadInputError("no neon parameter to change")
        problems = [p for name, value in values.items() if (p := param_problem(name, value)) is not None]
        if problems:
            raise BadInputError("; ".join(problems))

        def submit() -> dict[str, Any]:
            # on the active version (not the live tables, which may not have caught up with it yet)
            stored = self.governor.active_content()
            held = active_object(self.name, stored, "world_params", NEON_PARAMS_ID)
            merged = dict(DEFAULT_PARAMS) | dict(getattr(held, "params", None) or {}) | dict(values)
            version = next_version(self.name, stored, "world_params", NEON_PARAMS_ID)
            obj = {"id": NEON_PARAMS_ID, "version": version, "world": "neon", "params": merged}
            verdict = self.submit_content({"world_params": [obj]}, actor=actor, kind="params", reason=reason)
            if verdict["state"] in ("rejected", "rolled_back", "refused"):
                raise ParamsRejected(verdict)
            return verdict

        return self.call(submit)

    def submit_content(
        self, content: dict[str, Any], *, actor: str, kind: str = "patch", reason: str | None = None
    ) -> dict[str, Any]:
        """On the control thread: bundle ``content`` on the active version, sign it with the
        server key, submit it; publish and return the verdict. A ``reason`` is kept in the ledger
        (an ``operator_reason`` entry on the patch, when the ledger recorded it) and on the feed."""
        from ouroboros.patches import bundle_on_active

        gov = self.governor
        author = {"type": "operator", "model": None, "run_id": None}
        doc = bundle_on_active(gov, content, gov.local_key(SERVER_KEY), author=author)
        verdict = gov.submit(doc, actor=actor).as_dict()
        if reason is not None:
            verdict["reason"] = reason
            if gov.ledger.known(doc["patch_id"]):
                with gov.ledger.transaction(actor, reason) as tx:
                    tx.audit(REASON_ENTRY, {"kind": kind}, patch_id=doc["patch_id"])
        self.feed.publish("governance", self.name, action=kind, actor=actor, reason=reason, verdict=verdict)
        return verdict


def active_object(world: str, stored: Mapping[str, Any] | None, domain: str, object_id: str) -> Any:
    """The object ``object_id`` of ``domain`` in the catalog of ``stored`` (the active version's
    stored form, over the world's base content), or ``None``."""
    from ouroboros.patches import lint_catalog

    return lint_catalog(world, stored).try_get(domain, object_id)


def next_version(world: str, stored: Mapping[str, Any] | None, domain: str, object_id: str) -> str:
    """The version an object of ``domain`` with ``object_id`` takes in the next patch: one patch
    level above the one the catalog of ``stored`` (the active version, over the world's base
    content) has or last had (a removed object's version is remembered); ``1.0.0`` for a new id."""
    from ouroboros.content import semver_key
    from ouroboros.patches import lint_catalog

    catalog = lint_catalog(world, stored)
    obj = catalog.try_get(domain, object_id)
    last = obj.version if obj is not None else catalog.retired_version(domain, object_id)
    if last is None:
        return "1.0.0"
    major, minor, patch = semver_key(last)[:3]
    return f"{major}.{minor}.{patch + 1}"


class ParamsRejected(RejectedError):
    """A parameter change the pipeline refused; ``verdict`` is its verdict (``as_dict`` form)."""

    code = "params_rejected"

    def __init__(self, verdict: dict[str, Any]) -> None:
        reasons = [Reason(**r) for r in verdict.get("reasons") or ()] or [
            Reason("governance", str(verdict.get("state")), "/", "the parameter change was refused")
        ]
        super().__init__(reasons, f"parameter change {verdict.get('state')}: {reasons[0].message}")
        self.verdict = verdict


__all__ = [
    "NEON_PARAMS_ID",
    "REASON_ENTRY",
    "GovernedRunner",
    "ParamsRejected",
    "active_object",
    "next_version",
]
