"""A shard following the version the router gives it, instead of the data folder's one pointer.

``ShardFollower.sync(world, version)`` is what a shard's tick thread calls between two ticks with
``Router.desired(...)[shard]``: when the world runs another version it submits one
``gameplay.activate`` input, applied at the next tick boundary (the one door), with the content
read from the ledger the checked way (``ledger.version_content``: a row that does not match its
chained hash is never applied, the shard keeps its version and ``refusal`` says why). A treatment
version is kept in the ledger from the rollout's start (``RolloutStore.begin``). Going back to an
older version is a ``rollback`` migration (ADR 0012), as the pointer follower does it.

A cluster shard calls it at its tick boundary with the version the control process published
(``cluster.follow.ShardLink``, ADR 0018).
"""

from __future__ import annotations

from typing import Any

from ouroboros.engine import World
from ouroboros.errors import LedgerError
from ouroboros.patches import Ledger, PointerFollower


class ShardFollower:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._hints = PointerFollower(ledger.folder, ledger)
        #: why the shard is not on the version it was given (``None``: it is, or is switching)
        self.refusal: str | None = None

    def sync(self, world: World, version: str | None) -> str | bool | None:
        """Queue the switch to ``version``; the version queued, or ``False`` when there is none to
        make (already there, or its content cannot be trusted)."""
        from ouroboros.worlds import ACTIVATE_INPUT

        current = world.resources.get("gameplay_version")
        if current == version:
            self.refusal = None
            return False
        content: dict[str, Any] = {}
        if version is not None:
            try:
                stored = self.ledger.version_content(version)
            except LedgerError as exc:
                self.refusal = f"the content of {version} does not match the ledger: {exc.message}"
                return False
            if stored is None:
                self.refusal = f"the content of {version} is not kept in the ledger"
                return False
            content = dict(stored["objects"])
        self.refusal = None
        migration = self._hints.migration_hint(current, version)
        world.submit(ACTIVATE_INPUT, {"patch_id": version, "content": content, "migration": migration})
        return version


__all__ = ["ShardFollower"]
