"""API keys for hosted providers, and the operator's price table: both stay on this machine.

What it promises:

- ``KeyRing.key_for(role, base_url)`` finds a key in this order: the environment
  (``OUROBOROS_LLM_KEY_<ROLE>``, then ``OUROBOROS_LLM_API_KEY``), then the key file
  (``<data>/llm-keys.json``: ``{"roles": {role: key}, "servers": {base_url: key}}``). ``None``
  where there is none (a local server needs none).
- The key file must be a regular file readable by its owner only (mode ``0600`` or stricter); a
  looser one, or a malformed one, is ``KeyFileError`` naming the fix (``chmod 600 FILE``) and never
  its content. ``write_key`` writes it that way (created ``0600``, replaced atomically).
- Keys never travel: not in content (``model_roles`` has no field for one), not in a log, a
  report, a ledger row or an error: ``redact`` removes every known key from a text, and the HTTP
  providers pass every message they raise through it. ``repr(KeyRing)`` shows no key.
- ``PriceTable`` (``<data>/llm-prices.json``: ``{"models": {model: {"input_per_million": USD,
  "output_per_million": USD}}}``) turns tokens into a cost; an unknown model costs nothing and
  says so (``priced: False``).
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ouroboros.errors import KeyFileError

__all__ = [
    "KEY_FILE",
    "PRICE_FILE",
    "KeyRing",
    "Price",
    "PriceTable",
    "redact",
    "write_key",
]

KEY_FILE = "llm-keys.json"
PRICE_FILE = "llm-prices.json"
_ENV_ANY = "OUROBOROS_LLM_API_KEY"
_MIN_KEY_CHARS = 8


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of at least 8 characters) replaced by ``[redacted]``."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_KEY_CHARS}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def _env_name(role: str) -> str:
    return f"OUROBOROS_LLM_KEY_{role.upper()}"


def _read_private_json(path: Path, what: str) -> dict[str, Any] | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"the {what} {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"the {what} {path} is readable by others (mode {stat.S_IMODE(info.st_mode):o}): chmod 600 {path}"
        )
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"the {what} {path} is not readable JSON ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise KeyFileError(f"the {what} {path} must hold a JSON object")
    return body


def _string_map(body: Mapping[str, Any], field: str, path: Path) -> dict[str, str]:
    value = body.get(field, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise KeyFileError(f"{path}: {field!r} must map names to non-empty key strings")
    return dict(value)


class KeyRing:
    """Where the providers' API keys come from (see the module doc)."""

    def __init__(self, key_file: Path | None = None, *, env: Mapping[str, str] | None = None) -> None:
        self.key_file = key_file
        self._env = os.environ if env is None else env
        self._roles: dict[str, str] = {}
        self._servers: dict[str, str] = {}
        if key_file is not None:
            body = _read_private_json(key_file, "key file")
            if body is not None:
                self._roles = _string_map(body, "roles", key_file)
                self._servers = {
                    url.rstrip("/"): key for url, key in _string_map(body, "servers", key_file).items()
                }

    def __repr__(self) -> str:
        where = f"key_file={self.key_file!r}"
        return f"KeyRing({where}, roles={sorted(self._roles)}, servers={sorted(self._servers)})"

    def key_for(self, role: str, base_url: str | None) -> str | None:
        for name in (_env_name(role), _ENV_ANY):
            if self._env.get(name):
                return self._env[name]
        if role in self._roles:
            return self._roles[role]
        return self._servers.get((base_url or "").rstrip("/"))

    def secrets(self) -> list[str]:
        found = [v for k, v in self._env.items() if k.startswith("OUROBOROS_LLM_") and "KEY" in k and v]
        return [*found, *self._roles.values(), *self._servers.values()]


def write_key(key_file: Path, key: str, *, role: str | None = None, server: str | None = None) -> None:
    """Store ``key`` for ``role`` or ``server`` in ``key_file`` (created 0600, replaced atomically)."""
    if (role is None) == (server is None):
        raise KeyFileError("give a role or a server, not both")
    if not key.strip() or any(c.isspace() for c in key.strip()):
        raise KeyFileError("a key is one word without spaces")
    body = _read_private_json(key_file, "key file") or {}
    roles = _string_map(body, "roles", key_file)
    servers = _string_map(body, "servers", key_file)
    if role is not None:
        roles[role] = key.strip()
    else:
        servers[str(server).rstrip("/")] = key.strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=key_file.parent, prefix=".llm-keys-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"roles": roles, "servers": servers}, out, sort_keys=True, indent=2)
        os.replace(temp, key_file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


class PriceTable:
    """USD per million tokens per model, as the operator sets them (see the module doc)."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices = dict(prices or {})

    @classmethod
    def load(cls, path: Path) -> PriceTable:
        if not path.is_file():
            return cls()
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyFileError(
                f"the price table {path} is not readable JSON ({type(exc).__name__})"
            ) from None
        models = body.get("models") if isinstance(body, dict) else None
        if not isinstance(models, dict):
            raise KeyFileError(f'the price table {path} needs {{"models": {{MODEL: {{...}}}}}}')
        prices: dict[str, Price] = {}
        for model, entry in models.items():
            values = [entry.get(k) if isinstance(entry, dict) else None for k in Price.__dataclass_fields__]
            if not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                for v in values
            ):
                raise KeyFileError(
                    f"{path}: {model!r} needs input_per_million and output_per_million, numbers of 0 or more"
                )
            prices[str(model)] = Price(float(values[0]), float(values[1]))  # type: ignore[arg-type]
        return cls(prices)

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> tuple[float, bool]:
        """(USD, whether the model has a price)."""
        price = self.prices.get(model)
        if price is None:
            return 0.0, False
        usd = (tokens_in * price.input_per_million + tokens_out * price.output_per_million) / 1_000_000
        return round(usd, 6), True
