"""One settings object for ``ouroboros go``: ``Settings`` (pydantic-settings), frozen, units in the names.

Where a value comes from, strongest first: a flag given on the command line, the environment
(``OUROBOROS_<NAME>``, e.g. ``OUROBOROS_PORT=8080``; lists as JSON or comma-separated), a TOML
file (``--config FILE``, else ``$OUROBOROS_CONFIG``, else ``./ouroboros.toml`` when there is one;
top-level keys named like the settings), the default. ``load_settings`` returns the settings and,
for each, where it came from; ``ouroboros config show [--json]`` prints both.

What it promises:

- An unknown key in the file, a value of the wrong type or out of range (from any source) is a
  ``BadInputError`` naming the key and its source: the command's exit code 2.
- Secrets (``SecretStr`` fields: the OTLP exporter's headers) are never printed: ``shown()``
  gives ``"**********"`` for a secret that is set.
- Nothing here reads a world or starts anything: ``cli/go.py`` builds ``RuntimeOptions`` from it.
"""

from __future__ import annotations

import contextvars
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ouroboros.errors import BadInputError

ENV_PREFIX = "OUROBOROS_"
CONFIG_ENV = "OUROBOROS_CONFIG"
DEFAULT_CONFIG_FILE = Path("ouroboros.toml")
SECRET_SHOWN = "**********"
SOURCES = ("flag", "env", "file", "default")

_toml_file: contextvars.ContextVar[Path | None] = contextvars.ContextVar("ouroboros_toml", default=None)
Port = Annotated[int, Field(ge=0, le=65535)]
Names = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Every setting ``ouroboros go`` runs with (see the module docstring for the sources)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", case_sensitive=False, validate_default=True
    )

    # where and what
    world: str = Field("all", description="a world's name, several comma-separated, or all (the live worlds)")
    data: Path = Field(Path("ouroboros-data"), description="the data folder (one governed folder per world)")
    seed: int | None = Field(None, ge=0, description="seed of new worlds (None: 0)")
    entities: int | None = Field(None, ge=1, le=1_000_000, description="petri: molbots of a new dish")
    fresh: bool = Field(False, description="start new worlds even if saved ones exist")
    shards: str | None = Field(
        None,
        max_length=400,
        description="a world as N shards: WORLD=N[,WORLD=N], e.g. neon=2 (None: one)",
    )
    # pace
    ticks_per_second: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="None: each world's own"
    )
    max_ticks: int | None = Field(None, ge=0, le=100_000_000, description="stop after this many ticks")
    optimizer: str = Field("on", pattern="^(on|off)$", description="petri swaps system variants as it runs")
    # network
    host: str = Field("127.0.0.1", min_length=1, description="the address the API and gateways listen on")
    port: Port = Field(8000, description="the admin API and dashboard's port")
    telnet_port: Port = Field(4000, description="neon: the telnet gateway's port")
    ws_port: Port = Field(4001, description="neon: the WebSocket gateway's port")
    no_browser: bool = Field(False, description="do not open a browser")
    cors_origins: Names = Field((), description="browser origins the API allows")
    trusted_addresses: Names = Field((), description="neon: addresses exempt from per-address limits")
    # anchors outside the data folder
    witness: Path | None = Field(None, description="the file that witnesses each world's ledger head")
    trust_root: str | None = Field(None, description="the worlds' trust roots, comma-separated")
    # models
    llm: str = Field("offline", pattern="^(offline|local)$", description="offline or local")
    llm_port: Port = Field(0, description="--llm local: the model server's port (0: a free one)")
    enrich_timeout_s: float | None = Field(
        None, gt=0, le=600, allow_inf_nan=False, description="None: 10 s, 60 s with --llm local"
    )
    # what a runtime keeps
    feed_max_events: int = Field(1_000, ge=10, le=1_000_000, description="the operators' feed, in memory")
    tick_samples_max: int = Field(2_048, ge=16, le=1_000_000, description="tick times per world")
    council_events_max: int = Field(500, ge=10, le=100_000, description="events waiting for the director")
    auto_snapshot_keep_last: int = Field(5, ge=1, le=1_000, description="automatic snapshots kept")
    auto_snapshot_keep_days: int = Field(7, ge=0, le=3_650, description="plus the newest of each day")
    event_log: bool = Field(True, description="every feed event in <data>/events.sqlite3")
    input_log: bool = Field(True, description="each world's inputs in <data>/<world>/inputs/")
    input_log_segment_ticks: int = Field(9_000, ge=10, le=10_000_000, description="ticks a segment")
    input_log_keep_segments: int = Field(12, ge=1, le=10_000, description="segments kept per world")
    # operations
    access_log: str | None = Field(
        None, description="request lines (JSON lines): a file, '-' for stderr; None: DATA/access.log"
    )
    alert_webhook: str | None = Field(None, description="POST every alert here as JSON, retried")
    # tracing
    tracing: bool = Field(True, description="spans in memory (or over OTLP with otlp_endpoint)")
    otlp_endpoint: str | None = Field(None, description="OTLP/HTTP traces endpoint, e.g. http://host:4318")
    otlp_headers: SecretStr | None = Field(None, description="OTLP exporter headers (k=v,k=v): a secret")
    trace_buffer_spans: int = Field(20_000, ge=100, le=1_000_000, description="spans kept in memory")
    trace_tick_every: int = Field(
        1_000, ge=0, le=1_000_000, description="trace one tick in this many (0: none)"
    )

    @field_validator(
        "seed",
        "entities",
        "shards",
        "ticks_per_second",
        "max_ticks",
        "witness",
        "trust_root",
        "enrich_timeout_s",
        "otlp_endpoint",
        "otlp_headers",
        "access_log",
        "alert_webhook",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value  # OUROBOROS_WITNESS=""

    @field_validator("cors_origins", "trusted_addresses", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: JSON, or comma-separated
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _toml_file.get()
        file = () if toml is None else (TomlConfigSettingsSource(settings_cls, toml_file=toml),)
        return (init_settings, env_settings, *file)

    def shown(self) -> dict[str, Any]:
        """Every setting as plain data, secrets masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = SECRET_SHOWN if value.get_secret_value() else None
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def config_file(given: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The TOML file in force: ``given``, else ``$OUROBOROS_CONFIG``, else ``./ouroboros.toml``."""
    env = os.environ if environ is None else environ
    if given is not None:
        return given
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(f"config file {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"config file {path} is not TOML: {exc}") from exc


def load_settings(
    flags: Mapping[str, Any] | None = None, config: Path | None = None
) -> tuple[Settings, dict[str, str]]:
    """The settings in force and where each came from (``flag``, ``env``, ``file``, ``default``).

    ``flags``: only the flags given on the command line, by setting name."""
    flags = dict(flags or {})
    path = config_file(config)
    file_values = _read_toml(path) if path is not None else {}
    fields = Settings.model_fields
    for key in file_values:
        if key not in fields:
            raise BadInputError(f"config file {path}: unknown setting {key!r}")
    env = {k.upper(): v for k, v in os.environ.items()}
    sources: dict[str, str] = {}
    for name in fields:
        if name in flags:
            sources[name] = "flag"
        elif f"{ENV_PREFIX}{name}".upper() in env:
            sources[name] = "env"
        elif name in file_values:
            sources[name] = "file"
        else:
            sources[name] = "default"
    token = _toml_file.set(path)
    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        raise BadInputError(_describe(exc, sources, path)) from None
    except (ValueError, json.JSONDecodeError) as exc:  # a list in the environment that is bad JSON
        raise BadInputError(f"settings: {exc}") from None
    finally:
        _toml_file.reset(token)
    return settings, sources


def _describe(exc: ValidationError, sources: Mapping[str, str], path: Path | None) -> str:
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else "?"
    source = sources.get(key, "file")
    where = {
        "flag": f"--{key.replace('_', '-')}",
        "env": f"{ENV_PREFIX}{key.upper()}",
        "file": f"config file {path}",
        "default": "its default",
    }[source]
    if error["type"] == "extra_forbidden":
        return f"unknown setting {key!r} (from {where})"
    return f"setting {key!r} (from {where}): {error['msg']}"


__all__ = ["CONFIG_ENV", "ENV_PREFIX", "SECRET_SHOWN", "SOURCES", "Settings", "config_file", "load_settings"]
