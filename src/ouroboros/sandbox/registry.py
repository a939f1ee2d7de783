"""A versioned, in-memory registry of scripts: register, activate, roll back one step.

The governance layer calls it at tick boundaries; it does no I/O and knows no world. What it
promises:

- A version is registered only after ``check_script`` passed; a refused one leaves the registry
  as it was and its faults come back as ``RejectedError`` reasons (stage ``static``).
- The same source text (sha256) is never registered twice under any id: ``DUPLICATE`` (unless
  built with ``unique_sources=False``, as a world's record of the versions it ran is: there the
  same code may come back under a new version number).
- Per script id the last ``KEEP_VERSIONS`` versions are kept; older ones are dropped (never the
  active one), so old versions do not pile up.
- ``activate`` switches the active pointer; ``rollback`` moves it back to the version that was
  active before, in one step, and raises ``SandboxError`` when there is none left to go back to.
- ``to_data`` gives plain data without sources (for a world's resources, its digest and its
  snapshots); ``from_data`` rebuilds a registry from it, every version going through ``register``
  (and so through the static checks) again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ouroboros.errors import Reason, RejectedError, SandboxError
from ouroboros.sandbox.checks import check_script, source_digest
from ouroboros.sandbox.faults import Fault, FaultCode

KEEP_VERSIONS = 3


@dataclass(frozen=True)
class ScriptVersion:
    """One registered version of a script."""

    script_id: str
    version: str
    language: str
    source: str
    sha256: str
    meta: Mapping[str, str] = field(default_factory=dict, compare=False)  # the caller's own labels


def _reasons(faults: list[Fault]) -> list[Reason]:
    return [
        Reason("static", str(f.code), f"/scripts/{f.script_id}/{f.script_version}", f.message) for f in faults
    ]


class ScriptRegistry:
    """Scripts by id, each with up to ``KEEP_VERSIONS`` versions and an active one."""

    def __init__(self, keep: int = KEEP_VERSIONS, *, unique_sources: bool = True) -> None:
        if keep < 2:
            raise SandboxError("a registry must keep at least 2 versions to roll back")
        self.keep = keep
        self.unique_sources = unique_sources
        self._versions: dict[str, OrderedDict[str, ScriptVersion]] = {}
        self._history: dict[str, list[str]] = {}  # activation order, newest last
        self._digests: dict[str, tuple[str, str]] = {}

    def _kept(self, script_id: str) -> OrderedDict[str, ScriptVersion]:
        return self._versions.get(script_id) or OrderedDict()

    def register(
        self,
        script_id: str,
        version: str,
        language: str,
        source: str,
        meta: Mapping[str, str] | None = None,
    ) -> ScriptVersion:
        """Check and store a new version (not active yet). ``RejectedError`` when refused."""
        if not script_id or not version:
            raise SandboxError("script id and version must not be empty")
        if version in self._kept(script_id):
            raise SandboxError(f"{script_id} version {version} is already registered")
        digest = source_digest(source)
        if self.unique_sources and digest in self._digests:
            other_id, other_version = self._digests[digest]
            dup = Fault(
                FaultCode.DUPLICATE,
                f"the same source is already registered as {other_id} {other_version}",
                script_id,
                version,
            )
            raise RejectedError(_reasons([dup]))
        faults = check_script(language, source, script_id=script_id, version=version)
        if faults:
            raise RejectedError(_reasons(faults))
        entry = ScriptVersion(script_id, version, language, source, digest, dict(meta or {}))
        self._versions.setdefault(script_id, OrderedDict())[version] = entry
        if self.unique_sources:
            self._digests[digest] = (script_id, version)
        self._prune(script_id)
        return entry

    def _prune(self, script_id: str) -> None:
        versions = self._versions[script_id]
        active = self.try_active(script_id)
        while len(versions) > self.keep:
            oldest = next(v for v in versions if active is None or v != active.version)
            dropped = versions.pop(oldest)
            self._digests.pop(dropped.sha256, None)
            self._history[script_id] = [v for v in self._history.get(script_id, []) if v != oldest]

    def activate(self, script_id: str, version: str) -> ScriptVersion:
        """Make ``version`` the active one (call at a tick boundary)."""
        entry = self.get(script_id, version)
        history = self._history.setdefault(script_id, [])
        if history and history[-1] == version:
            return entry
        history.append(version)
        del history[: -4 * self.keep]
        return entry

    def rollback(self, script_id: str) -> ScriptVersion:
        """Go back to the version active before the current one; one step."""
        history = [v for v in self._history.get(script_id, []) if v in self._kept(script_id)]
        if len(history) < 2:
            raise SandboxError(f"{script_id} has no earlier version to roll back to")
        history.pop()
        self._history[script_id] = history
        return self._versions[script_id][history[-1]]

    def get(self, script_id: str, version: str) -> ScriptVersion:
        entry = self._kept(script_id).get(version)
        if entry is None:
            raise SandboxError(f"{script_id} version {version} is not registered")
        return entry

    def try_active(self, script_id: str) -> ScriptVersion | None:
        versions = self._kept(script_id)
        for version in reversed(self._history.get(script_id, [])):
            if version in versions:
                return versions[version]
        return None

    def active(self, script_id: str) -> ScriptVersion:
        entry = self.try_active(script_id)
        if entry is None:
            raise SandboxError(f"{script_id} has no active version")
        return entry

    def versions(self, script_id: str) -> list[str]:
        """Versions kept for ``script_id``, oldest first."""
        return list(self._kept(script_id))

    def script_ids(self) -> list[str]:
        return sorted(self._versions)

    def forget(self, script_id: str) -> None:
        """Drop every version of ``script_id`` and its history."""
        for dropped in self._versions.pop(script_id, OrderedDict()).values():
            if self._digests.get(dropped.sha256) == (script_id, dropped.version):
                del self._digests[dropped.sha256]
        self._history.pop(script_id, None)

    # -- as plain data --------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """Per script id, the kept versions oldest first (no sources: ``sha256`` names them) and
        the activation history, newest last. JSON-ready and deterministic."""
        return {
            script_id: {
                "versions": [
                    {"version": v.version, "language": v.language, "sha256": v.sha256, "meta": dict(v.meta)}
                    for v in versions.values()
                ],
                "history": list(self._history.get(script_id, [])),
            }
            for script_id, versions in sorted(self._versions.items())
        }

    @classmethod
    def from_data(
        cls,
        data: Mapping[str, Any],
        source_of: Callable[[str], str | None],
        *,
        keep: int = KEEP_VERSIONS,
        unique_sources: bool = True,
    ) -> ScriptRegistry:
        """A registry rebuilt from ``to_data()``; ``source_of(sha256)`` gives each version's text.
        Every version is registered (and checked) again; one whose source is missing, or that
        the checks now refuse, is left out, and so is its place in the history."""
        registry = cls(keep, unique_sources=unique_sources)
        for script_id, item in data.items():
            for v in item.get("versions", ()):
                source = source_of(str(v["sha256"]))
                if source is None or source_digest(source) != v["sha256"]:
                    continue
                try:
                    registry.register(script_id, str(v["version"]), str(v["language"]), source, v.get("meta"))
                except (RejectedError, SandboxError):
                    continue
            kept = registry._kept(script_id)
            history = [str(h) for h in item.get("history", ()) if h in kept]
            if history:
                registry._history[script_id] = history
        return registry


__all__ = ["KEEP_VERSIONS", "ScriptRegistry", "ScriptVersion"]
