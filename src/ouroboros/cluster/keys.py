"""The Redis keys of a cluster, in one place (hash-tagged by namespace: one slot)."""

from __future__ import annotations

NAMESPACE = "ouroboros"


def ns(namespace: str = NAMESPACE) -> str:
    return "{" + namespace + "}"


def shard_in(shard: str, namespace: str = NAMESPACE) -> str:
    """Players' operations for a shard (enter, command, leave), in the order gateways sent them."""
    return f"{ns(namespace)}:shard:{shard}:in"


def shard_alive(shard: str, namespace: str = NAMESPACE) -> str:
    """The shard's heartbeat: its boot id, with a short expiry."""
    return f"{ns(namespace)}:shard:{shard}:alive"


def shard_version(shard: str, namespace: str = NAMESPACE) -> str:
    """The version the shard should run, as the control process publishes it (JSON)."""
    return f"{ns(namespace)}:shard:{shard}:version"


def shard_running(shard: str, namespace: str = NAMESPACE) -> str:
    """The version the shard runs now, as it last said (JSON ``{"v": VERSION, "b": BOOT}``), with a
    short expiry: a gateway in front of the world's shards routes by it."""
    return f"{ns(namespace)}:shard:{shard}:running"


def shard_snapshot(shard: str, namespace: str = NAMESPACE) -> str:
    """A shard of an evolving world's newest dish snapshot (JSON, ``cluster.dish.encode_snapshot``),
    written every few seconds on its link thread; the control's evolution loop mirrors it."""
    return f"{ns(namespace)}:shard:{shard}:snapshot"


def world_route(world: str, namespace: str = NAMESPACE) -> str:
    """The world's routing as the control process publishes it (JSON: the stable version and the
    live or last rollout's state), read by the gateway in front of the world's shards."""
    return f"{ns(namespace)}:world:{world}:route"


def world_shards(world: str, namespace: str = NAMESPACE) -> str:
    """The set of a world's shards (each adds itself when it starts)."""
    return f"{ns(namespace)}:world:{world}:shards"


def world_versions(world: str, namespace: str = NAMESPACE) -> str:
    """Pub/sub channel: the control process moved some shard's version (a nudge; the keys hold it)."""
    return f"{ns(namespace)}:world:{world}:versions"


def world_ticks(world: str, namespace: str = NAMESPACE) -> str:
    """The stream of the world's shards' tick reports (batched), read into a ``KpiBook``."""
    return f"{ns(namespace)}:world:{world}:ticks"


def world_signals(world: str, namespace: str = NAMESPACE) -> str:
    """The stream of the director's signals its shards read once a second of ticks (fields ``s``,
    the shard, and ``d``, JSON ``{"t": tick, "e": events, "k": kpis}``), read by the control's council."""
    return f"{ns(namespace)}:world:{world}:signals"


def world_signals_seen(world: str, namespace: str = NAMESPACE) -> str:
    """The id of the last entry of ``world_signals`` the control's council was given (its cursor)."""
    return f"{ns(namespace)}:world:{world}:signals:seen"


def gateway_out(gateway: str, namespace: str = NAMESPACE) -> str:
    """Events for the characters a gateway holds."""
    return f"{ns(namespace)}:gateway:{gateway}:out"


def procs(namespace: str = NAMESPACE) -> str:
    return f"{ns(namespace)}:procs"


def alerts(namespace: str = NAMESPACE) -> str:
    return f"{ns(namespace)}:alerts"


def character(name: str, namespace: str = NAMESPACE) -> str:
    """A character's stored record (JSON), kept without expiry."""
    return f"{ns(namespace)}:character:{name}"


def character_lease(name: str, namespace: str = NAMESPACE) -> str:
    """Who holds a character now: ``TOKEN:HOLDER``, expiring with the lease (PX)."""
    return f"{ns(namespace)}:character:{name}:lease"


def character_names(namespace: str = NAMESPACE) -> str:
    """The set of names with a stored record."""
    return f"{ns(namespace)}:characters"


def character_tokens(namespace: str = NAMESPACE) -> str:
    """The fencing-token counter: every claim takes the next number."""
    return f"{ns(namespace)}:characters:token"


__all__ = [
    "NAMESPACE",
    "alerts",
    "character",
    "character_lease",
    "character_names",
    "character_tokens",
    "gateway_out",
    "ns",
    "procs",
    "shard_alive",
    "shard_in",
    "shard_running",
    "shard_snapshot",
    "shard_version",
    "world_route",
    "world_shards",
    "world_signals",
    "world_signals_seen",
    "world_ticks",
    "world_versions",
]
