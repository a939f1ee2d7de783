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
]
