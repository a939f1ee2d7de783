"""Governance: signed bundles, the pipeline's stages, the ledger and the kill-switch, behind one
``Governor`` per data folder. Code outside ``patches/`` imports these names from here, never from a
module inside (a test checks it).

- ``Governor`` opens a data folder (``WORLD_FILE``; ``DEFAULT_WORLD`` when it is new) and is the
  one door: ``submit`` / ``approve`` / ``reject`` / ``rollback`` give a ``Verdict`` (``REFUSED``
  when the kill-switch or the ledger says no); ``State`` is a patch's place in its lifecycle.
- ``PointerFollower`` applies the active version to a running world at a tick boundary;
  ``record_migration`` writes a world's migration report to the ledger.
- Bundles: ``new_bundle``, ``sign_bundle`` (with a ``SigningKey``), ``bundle_on_active``,
  ``default_engine_compat``; ``stages`` holds the pipeline's stage functions
  (``MAX_BUNDLE_LIFETIME``).
- Content: ``base_content``, ``fold_content``, ``lint_catalog``, ``effective_objects``,
  ``world_content``.
- The trust door: ``verify`` gives a ``VerifiedBundle`` or ``Refused``; ``MemoryGovernor`` is the
  in-memory governor of the evolution loop and experiments; ``Ledger`` the append-only log (its
  file in a data folder: ``LEDGER_FILE``);
  ``sandbox_script_checker`` the pipeline's script check.
- Anchors outside the folder: ``Anchors``, ``anchor_notes``; ``rewrite_mirror`` repairs a pointer
  mirror.
- Files: ``canonical_bytes`` / ``load_json`` / ``sha256_hex`` (RFC 8785 JSON), ``write_atomic``.

The names load on first use (PEP 562): the low modules here (``canonical``, ``atomic``) are
imported from everywhere, and importing them must not pull in the governor.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ouroboros.patches import stages
    from ouroboros.patches.activation import PointerFollower, record_migration
    from ouroboros.patches.atomic import write_atomic
    from ouroboros.patches.bundle import bundle_on_active, default_engine_compat, new_bundle, sign_bundle
    from ouroboros.patches.canonical import canonical_bytes, load_json, sha256_hex
    from ouroboros.patches.catalogs import (
        base_content,
        effective_objects,
        fold_content,
        lint_catalog,
        world_content,
    )
    from ouroboros.patches.door import Refused, VerifiedBundle, verify
    from ouroboros.patches.governor import REFUSED, Governor, Verdict, sandbox_script_checker
    from ouroboros.patches.keys import SigningKey
    from ouroboros.patches.ledger import LEDGER_FILE, Ledger
    from ouroboros.patches.memory import MemoryGovernor
    from ouroboros.patches.repair import rewrite_mirror
    from ouroboros.patches.stages import MAX_BUNDLE_LIFETIME
    from ouroboros.patches.states import State
    from ouroboros.patches.witness import Anchors, anchor_notes
    from ouroboros.patches.world_file import DEFAULT_WORLD, WORLD_FILE

__all__ = [
    "DEFAULT_WORLD",
    "LEDGER_FILE",
    "MAX_BUNDLE_LIFETIME",
    "REFUSED",
    "WORLD_FILE",
    "Anchors",
    "Governor",
    "Ledger",
    "MemoryGovernor",
    "PointerFollower",
    "Refused",
    "SigningKey",
    "State",
    "Verdict",
    "VerifiedBundle",
    "anchor_notes",
    "base_content",
    "bundle_on_active",
    "canonical_bytes",
    "default_engine_compat",
    "effective_objects",
    "fold_content",
    "lint_catalog",
    "load_json",
    "new_bundle",
    "record_migration",
    "rewrite_mirror",
    "sandbox_script_checker",
    "sha256_hex",
    "sign_bundle",
    "stages",
    "verify",
    "world_content",
    "write_atomic",
]

_HOME = {
    "DEFAULT_WORLD": "world_file",
    "LEDGER_FILE": "ledger",
    "MAX_BUNDLE_LIFETIME": "stages",
    "REFUSED": "governor",
    "WORLD_FILE": "world_file",
    "Anchors": "witness",
    "Governor": "governor",
    "Ledger": "ledger",
    "MemoryGovernor": "memory",
    "PointerFollower": "activation",
    "Refused": "door",
    "SigningKey": "keys",
    "State": "states",
    "Verdict": "governor",
    "VerifiedBundle": "door",
    "anchor_notes": "witness",
    "base_content": "catalogs",
    "bundle_on_active": "bundle",
    "canonical_bytes": "canonical",
    "default_engine_compat": "bundle",
    "effective_objects": "catalogs",
    "fold_content": "catalogs",
    "lint_catalog": "catalogs",
    "load_json": "canonical",
    "new_bundle": "bundle",
    "record_migration": "activation",
    "rewrite_mirror": "repair",
    "sandbox_script_checker": "governor",
    "sha256_hex": "canonical",
    "sign_bundle": "bundle",
    "verify": "door",
    "world_content": "catalogs",
    "write_atomic": "atomic",
}


def __getattr__(name: str) -> Any:
    if name == "stages":
        return importlib.import_module(f"{__name__}.stages")
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
