"""``ModelRegistry``: which provider and model serve which council role, and how well they do.

What it promises:

- The assignment of roles to models is **content**: ``model_roles`` objects
  (``ouroboros.content.ModelRole``) in the active version. ``registry_patch`` makes the patch
  content that changes one role (its version the one after the current one), so the change goes
  through the governance pipeline and one rollback restores the model before it.
  ``ModelRegistry.from_content`` reads the active version; a role without an object is served by
  the offline provider.
- Per role and model it keeps calls, failures, acceptance (a proposal with the model's words was
  accepted) and latency in SQLite (table ``llm_model_stats``, in the file given, ``:memory:``
  without one). ``record`` is atomic (one call: latency, ok); ``accept`` counts a recorded call whose words
  went into an accepted proposal; ``stats`` is sorted.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ouroboros.ai.llm.base import ROLES, Provider
from ouroboros.ai.llm.cache import ResponseCache
from ouroboros.ai.llm.keys import KeyRing
from ouroboros.ai.llm.offline import OFFLINE_MODEL, OfflineProvider
from ouroboros.ai.llm.providers import OllamaProvider, OpenAICompatProvider
from ouroboros.content import ModelRole, parse_content
from ouroboros.content.models import MODEL_ROLE_ID_PREFIX
from ouroboros.content.versions import next_version
from ouroboros.errors import LlmError
from ouroboros.patches import canonical_bytes

__all__ = ["ModelRegistry", "RoleAssignment", "registry_patch"]


@dataclass(frozen=True)
class RoleAssignment:
    role: str
    provider: str
    model: str
    base_url: str | None = None
    structured: str = "response_format"
    version: str | None = None  # the ModelRole's version; None: the built-in offline default

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _default(role: str) -> RoleAssignment:
    return RoleAssignment(role, "offline", OFFLINE_MODEL)


def _model_role_objects(content: Mapping[str, Any] | None) -> list[Any]:
    if content is None:
        return []
    objects = content.get("objects") if isinstance(content.get("objects"), Mapping) else content
    found = objects.get("model_roles", []) if isinstance(objects, Mapping) else []
    return list(found or [])


class ModelRegistry:
    def __init__(
        self,
        assignments: Mapping[str, RoleAssignment] | None = None,
        *,
        db_path: Path | str | None = None,
        keys: KeyRing | None = None,
        cache: ResponseCache | None = None,
        remote: Callable[[RoleAssignment], Provider] | None = None,
    ) -> None:
        #: serves every role assigned a model (not the offline grammars) in another process: the
        #: cluster's ``llm`` workers (``ai.offload.JobModel``); None: this process calls the model
        self.remote = remote
        self.keys = keys  # API keys of hosted providers (environment, 0600 key file): never content
        self.cache = cache  # valid answers by request, shared by every provider built here
        self._assignments = {role: _default(role) for role in ROLES}
        for role, assignment in (assignments or {}).items():
            if role not in ROLES:
                raise LlmError(f"unknown role {role!r}", code="bad_request")
            self._assignments[role] = assignment
        self._providers: dict[tuple[str, ...], Provider] = {}  # the key's tuple holds the API key
        self._lock = threading.Lock()
        if db_path is not None:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path or ":memory:"), check_same_thread=False, isolation_level=None)
        if db_path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS llm_model_stats (role TEXT NOT NULL, model TEXT NOT NULL,"
            " calls INTEGER NOT NULL, failures INTEGER NOT NULL, accepted INTEGER NOT NULL,"
            " latency_ms_total INTEGER NOT NULL, latency_ms_max INTEGER NOT NULL, PRIMARY KEY (role, model))"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(llm_model_stats)")}
        for column in ("tokens_in", "tokens_out"):  # added later: older files gain them, at 0
            if column not in columns:
                self._db.execute(
                    f"ALTER TABLE llm_model_stats ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0"
                )

    @classmethod
    def from_content(
        cls,
        content: Mapping[str, Any] | None,
        *,
        db_path: Path | str | None = None,
        defaults: Mapping[str, RoleAssignment] | None = None,
        keys: KeyRing | None = None,
        cache: ResponseCache | None = None,
        remote: Callable[[RoleAssignment], Provider] | None = None,
    ) -> ModelRegistry:
        """The registry of a version's content: ``Governor.active_content()`` (``{"objects": ...,
        "retired": ...}``), plain patch content (``{"model_roles": [...]}``) or ``None`` (the base
        version: every role offline). ``ContentError`` if the model roles there are malformed.
        ``defaults`` serve the roles the content assigns no model (instead of the offline
        provider): how ``go --llm local`` points the word roles at the local model while a
        governed ``models set`` still wins."""
        parsed = parse_content({"model_roles": _model_role_objects(content)})
        assignments: dict[str, RoleAssignment] = dict(defaults or {})
        assignments |= {
            obj.role: RoleAssignment(
                obj.role, obj.provider, obj.model, obj.base_url, obj.structured, obj.version
            )
            for obj in parsed.model_roles
        }
        return cls(assignments, db_path=db_path, keys=keys, cache=cache, remote=remote)

    def close(self) -> None:
        """Close the stats database and the HTTP clients of the providers built here."""
        with self._lock:
            for provider in self._providers.values():
                close = getattr(provider, "close", None)
                if callable(close):
                    close()
            self._providers.clear()
            self._db.close()

    # -- assignments ------------------------------------------------------------------------------
    def assignment(self, role: str) -> RoleAssignment:
        if role not in self._assignments:
            raise LlmError(f"unknown role {role!r} (roles: {', '.join(ROLES)})", code="bad_request")
        return self._assignments[role]

    def assignments(self) -> dict[str, RoleAssignment]:
        return dict(self._assignments)

    @property
    def version(self) -> str:
        """A short digest of every assignment: equal registries have equal versions."""
        body = {role: a.as_dict() for role, a in sorted(self._assignments.items())}
        return hashlib.sha256(canonical_bytes(body)).hexdigest()[:16]

    def provider(self, role: str, *, api_key: str | None = None, **options: Any) -> Provider:
        """The provider that serves ``role`` (built once per assignment and kept)."""
        a = self.assignment(role)
        if api_key is None and self.keys is not None and a.provider != "offline":
            api_key = self.keys.key_for(role, a.base_url)
        key = (a.provider, a.model, a.base_url or "", a.structured, api_key or "")
        with self._lock:
            found = self._providers.get(key)
            if found is None:
                if self.cache is not None and a.provider != "offline":
                    options = {"cache": self.cache, **options}
                if self.remote is not None and a.provider != "offline":
                    found = self.remote(a)
                else:
                    found = self._build(a, api_key, options)
                self._providers[key] = found
            return found

    @staticmethod
    def _build(a: RoleAssignment, api_key: str | None, options: dict[str, Any]) -> Provider:
        if a.provider == "offline":
            return OfflineProvider(a.model)
        if a.base_url is None:
            raise LlmError(f"the {a.provider} provider of {a.role} has no base_url", code="bad_request")
        if a.provider == "ollama":
            return OllamaProvider(a.base_url, a.model, api_key=api_key, **options)
        return OpenAICompatProvider(a.base_url, a.model, api_key, structured=a.structured, **options)

    # -- stats ------------------------------------------------------------------------------------
    def record(
        self,
        role: str,
        model: str,
        latency_ms: int,
        ok: bool,
        accepted: bool,
        *,
        tokens_in: int = 0,
        tokens_out: int = 0,
    ) -> None:
        """One call of ``model`` for ``role``: how long it took, whether it answered validly,
        whether what it wrote was accepted, and the tokens it used (what it costs)."""
        latency = max(0, int(latency_ms))
        with self._lock:
            self._db.execute(
                "INSERT INTO llm_model_stats (role, model, calls, failures, accepted, latency_ms_total,"
                " latency_ms_max, tokens_in, tokens_out) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (role, model) DO UPDATE SET calls = calls + 1,"
                " failures = failures + excluded.failures, accepted = accepted + excluded.accepted,"
                " latency_ms_total = latency_ms_total + excluded.latency_ms_total,"
                " latency_ms_max = max(latency_ms_max, excluded.latency_ms_max),"
                " tokens_in = tokens_in + excluded.tokens_in, tokens_out = tokens_out + excluded.tokens_out",
                (
                    role,
                    model,
                    0 if ok else 1,
                    1 if ok and accepted else 0,
                    latency,
                    latency,
                    max(0, int(tokens_in)),
                    max(0, int(tokens_out)),
                ),
            )

    def accept(self, role: str, model: str) -> None:
        """What ``model`` wrote for ``role`` in one earlier call went into an accepted proposal
        (counted once per call that answered; a model with no recorded call is ignored)."""
        with self._lock:
            self._db.execute(
                "UPDATE llm_model_stats SET accepted = accepted + 1"
                " WHERE role = ? AND model = ? AND accepted < calls - failures",
                (role, model),
            )

    def stats(self) -> list[dict[str, Any]]:
        """Per (role, model): calls, failures, accepted, mean and max latency, and the failure and
        acceptance rates in permille (acceptance of the calls that answered)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT role, model, calls, failures, accepted, latency_ms_total, latency_ms_max,"
                " tokens_in, tokens_out FROM llm_model_stats ORDER BY role, model"
            ).fetchall()
        out = []
        for role, model, calls, failures, accepted, total, most, tokens_in, tokens_out in rows:
            answered = calls - failures
            out.append(
                {
                    "role": role,
                    "model": model,
                    "calls": calls,
                    "failures": failures,
                    "accepted": accepted,
                    "latency_ms_mean": total // calls if calls else 0,
                    "latency_ms_max": most,
                    "failure_permille": failures * 1000 // calls if calls else 0,
                    "acceptance_permille": accepted * 1000 // answered if answered else 0,
                    "tokens_in": tokens_in,
                    "tokens_out": tokens_out,
                }
            )
        return out


def registry_patch(
    role: str,
    provider: str,
    model: str,
    *,
    base_url: str | None = None,
    structured: str = "response_format",
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Patch content that makes ``provider``'s ``model`` serve ``role``.

    ``current`` is the active version's content (as ``from_content`` reads it); the new object's
    version is the one after the role's current one (``content.versions.next_version``). ``ContentError``
    if the result is not valid content (an unknown role or provider, a bad model name or URL)."""
    existing = ModelRegistry.from_content(current).assignment(role) if role in ROLES else None
    version = next_version(existing.version if existing is not None else None)
    obj: dict[str, Any] = {
        "id": MODEL_ROLE_ID_PREFIX + role,
        "version": version,
        "role": role,
        "provider": provider,
        "model": model,
        "structured": structured,
    }
    if base_url is not None:
        obj["base_url"] = base_url
    content = {"model_roles": [obj]}
    parsed: ModelRole = parse_content(content).model_roles[0]
    return {"model_roles": [parsed.model_dump(mode="json", exclude_none=True)]}
