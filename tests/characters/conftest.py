"""The cluster's ``redis_server`` fixture: a private redis-server per test."""

from tests.cluster.conftest import redis_server

__all__ = ["redis_server"]
