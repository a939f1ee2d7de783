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
from ouroboros.errors import BadInputError, OuroborosError
from ouroboros.patches.atomic import write_atomic
from ouroboros.server.runtime.feed import Feed
from ouroboros.server.runtime.options import CONTROL_TIMEOUT_S, SERVER_KEY, RuntimeOptions

T = TypeVar("T")


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
        from ouroboros.patches.governor import DEFAULT_WORLD, Governor

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
        self.governor = Governor(self.folder, world_defaults=defaults)
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

    def _close_governance(self) -> None:
        for part in (self.evolution, self.council):
            if part is not None and hasattr(part, "close"):
                with contextlib.suppress(Exception):
                    part.close()
        if self.governor is not None:
            with contextlib.suppress(Exception):
                self.governor.close()
            self.governor = None

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
        governed ``world_params`` patch signed by the server key (its verdict is returned)."""
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
        from ouroboros.worlds.neon.params import DEFAULT_PARAMS

        unknown = sorted(set(values) - set(DEFAULT_PARAMS))
        if unknown:
            raise BadInputError(f"neon has no parameter {', '.join(unknown)}")
        current = self.params()
        merged = {k: int(current.get(k, DEFAULT_PARAMS[k])) for k in current} | dict(values)

        def submit() -> dict[str, Any]:
            gov = self.governor
            base = (gov.active_content() or {}).get("world_params") or []
            version = "1.0.0"
            for obj in base if isinstance(base, list) else []:
                if isinstance(obj, dict) and obj.get("id") == "neon.params.base":
                    version = str(obj.get("version", "1.0.0"))
            major, minor, patch = (int(x) for x in version.split(".")[:3])
            obj = {"id": "neon.params.base", "version": f"{major}.{minor}.{patch + 1}", "world": "neon"}
            content = {"world_params": [{**obj, "params": merged}]}
            return self.submit_content(content, actor=actor, kind="params")

        return self.call(submit)

    def submit_content(self, content: dict[str, Any], *, actor: str, kind: str = "patch") -> dict[str, Any]:
        """On the control thread: bundle ``content`` on the active version, sign it with the
        server key, submit it; publish and return the verdict."""
        from datetime import timedelta

        from ouroboros.engine import ENGINE_VERSION
        from ouroboros.patches.bundle import new_bundle, sign_bundle

        gov = self.governor
        active = gov.active()
        sequence = 0 if active is None else (gov.ledger.sequence_of(active) or 0) + 1
        major, minor = (int(x) for x in ENGINE_VERSION.split(".")[:2])
        compat = (
            f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"
        )
        doc = new_bundle(
            content,
            world=self.name,
            parent_patch_id=active,
            sequence=sequence,
            author={"type": "operator", "model": None, "run_id": None},
            engine_compat=compat,
            ttl=timedelta(hours=1),
        )
        doc = sign_bundle(doc, gov.local_key(SERVER_KEY))
        verdict = gov.submit(doc, actor=actor).as_dict()
        self.feed.publish("governance", self.name, action=kind, actor=actor, verdict=verdict)
        return verdict


__all__ = ["GovernedRunner"]
