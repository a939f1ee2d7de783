"""A live world's governance, on its control thread: the governed folder, parameters, patches.

``<data>/<world>/`` holds ``world.json``, the ledger, the keyring and the runtime's ``server``
signing key (made on first start). The governor's SQLite connections belong to the thread that
opened them, so every call that touches it is handed to the world's control thread
(``runner.call(fn)``); ``Governance`` is the part a runner is given for it (``runner.governance``).
Every world's parameters (its ``spec.params``) change the same way: a governed ``world_params``
patch of the hook's ``governed_id`` object signed by the server key, so an operator's change is in
the ledger and every later version keeps it (see ADR 0016).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ouroboros.engine import World
from ouroboros.errors import BadInputError, OuroborosError, Reason, RejectedError
from ouroboros.patches import write_atomic
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.options import SERVER_KEY, RuntimeOptions
from ouroboros.server.runtime.snapshots import Snapshots

if TYPE_CHECKING:
    from ouroboros.patches import Anchors, Governor

T = TypeVar("T")

#: The ledger entry that keeps the reason an operator gave for a change the runtime submitted.
REASON_ENTRY = "operator_reason"


class GovernanceHost(Protocol):
    """What a live world's governance needs of its runner."""

    name: str
    folder: Path
    options: RuntimeOptions
    feed: Feed
    lock: threading.RLock
    world: World
    snapshots: Snapshots

    def call(self, fn: Callable[[], T], timeout_s: float = ...) -> T:
        """Run ``fn`` on the world's control thread."""
        ...


class Governance:
    """A live world's governed folder (``runner.governance``), on the runner it is given; every
    method but ``params``, ``settings`` and ``set_params`` runs on the control thread."""

    def __init__(self, host: GovernanceHost) -> None:
        self.host = host
        self._governor: Governor | None = None  # only ever used on the control thread
        #: the folder's trust root and anchors, for ``go`` to tell the operator (once open)
        self.trust_root: str | None = None
        self.anchors: Anchors | None = None

    @property
    def governor(self) -> Governor:
        """The world's governor (``OuroborosError`` once the governed folder is closed); only
        ever used on the control thread."""
        if self._governor is None:
            raise OuroborosError(f"the governed folder of {self.host.name} is closed", code="closed")
        return self._governor

    @property
    def is_open(self) -> bool:
        return self._governor is not None

    def open(self) -> None:
        """On the control thread: open (or set up) ``<data>/<world>/`` with the runtime's options."""
        from ouroboros.patches import Governor
        from ouroboros.worlds import world_spec

        name, folder, options = self.host.name, self.host.folder, self.host.options
        folder.mkdir(parents=True, exist_ok=True)
        config = (options.world_configs or {}).get(name)
        defaults: dict[str, Any] = {
            "world": name,
            "seed": 0,
            "config": dict(world_spec(name).live_config if config is None else config),
        }
        if options.seed is not None:
            defaults["seed"] = options.seed
        if options.governance_budgets:
            defaults["budgets"] = dict(options.governance_budgets)
        world_file = folder / "world.json"
        if options.fresh and world_file.exists():
            # a fresh world may take a new seed or size: the folder's patches then apply to it
            doc = json.loads(world_file.read_bytes())
            if isinstance(doc, dict):
                doc["seed"] = defaults["seed"] if options.seed is not None else doc.get("seed", 0)
                if config is not None:
                    doc["config"] = defaults["config"]
                write_atomic(world_file, (json.dumps(doc, sort_keys=True) + "\n").encode())
        self._governor = Governor(
            folder,
            world_defaults=defaults,
            witness=options.witness,
            trust_root=options.trust_root,
        )
        if self.governor.world_name != name:
            raise BadInputError(f"{folder} is set up for world {self.governor.world_name!r}")
        recorded = self.governor.settings.get("seed", 0)
        if options.seed is not None and recorded != options.seed:
            raise BadInputError(
                f"the saved {name} world has seed {recorded}, not {options.seed} (use --fresh to start over)"
            )
        if not (self.governor.keys_dir / f"{SERVER_KEY}.key").exists():
            self.governor.new_key(SERVER_KEY, ["*"], actor="ouroboros go")
        self.trust_root = self.governor.trust_root()
        self.anchors = self.governor.anchors

    def close(self) -> None:
        """On the control thread: close the governed folder (quietly; ``governor`` then raises)."""
        if self._governor is not None:
            with contextlib.suppress(Exception):
                self._governor.close()
            self._governor = None

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
            self.host.snapshots.auto(f"before a rollback over {undoes} versions", actor)
        result: dict[str, Any] = gov.rollback(actor, reason, to, to_base=to_base)
        return result

    def settings(self) -> dict[str, Any]:
        return dict(self.host.call(lambda: self.governor.settings))

    def params(self) -> dict[str, Any]:
        """The parameters the world runs with now (its spec's params hook; ``{}``: it has none)."""
        from ouroboros.worlds import world_spec

        hook = world_spec(self.host.name).params
        if hook is None:
            return {}
        with self.host.lock:
            return dict(hook.current(self.host.world))

    def set_params(self, values: Mapping[str, int], actor: str, reason: str) -> dict[str, Any]:
        """A governed ``world_params`` patch signed by the server key: the hook's ``governed_id``
        object with ``values`` laid over what it held, every value checked by the
        world's params hook first (``BadInputError``). Its verdict is returned when the patch is
        active or held for a human, and ``ParamsRejected`` (a ``RejectedError`` carrying the
        verdict) raised when the pipeline refuses it. The world takes the version at a tick
        boundary (its follower), and every later version keeps the object (a new ``tick_hz``
        sets neon's pace at the tick the version lands)."""
        from ouroboros.worlds import world_spec

        name = self.host.name
        hook = world_spec(name).params
        if hook is None:
            raise BadInputError(f"{name} has no parameters to change")
        if not values:
            raise BadInputError(f"no {name} parameter to change")
        problems = []
        for param, value in values.items():
            try:
                hook.check(param, value)
            except OuroborosError as exc:
                problems.append(exc.message)
        if problems:
            raise BadInputError("; ".join(problems))

        def submit() -> dict[str, Any]:
            # on the active version (not the live world, which may not have caught up with it yet)
            stored = self.governor.active_content()
            object_id = hook.governed_id
            held = active_object(name, stored, "world_params", object_id)
            merged = dict(getattr(held, "params", None) or {}) | dict(values)
            version = next_version(name, stored, "world_params", object_id)
            obj = {"id": object_id, "version": version, "world": name, "params": merged}
            verdict = self.submit_content({"world_params": [obj]}, actor=actor, kind="params", reason=reason)
            if not verdict["ok"]:
                raise ParamsRejected(verdict)
            return verdict

        return self.host.call(submit)

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
        host = self.host
        host.feed.publish("governance", host.name, action=kind, actor=actor, reason=reason, verdict=verdict)
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
    from ouroboros.content.versions import next_version as after
    from ouroboros.patches import lint_catalog

    catalog = lint_catalog(world, stored)
    obj = catalog.try_get(domain, object_id)
    return after(obj.version if obj is not None else catalog.retired_version(domain, object_id))


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
    "REASON_ENTRY",
    "Governance",
    "GovernanceHost",
    "ParamsRejected",
    "active_object",
    "next_version",
]
