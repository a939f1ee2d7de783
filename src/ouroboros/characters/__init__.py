"""Characters every shard can load, one shard at a time.

``CharacterStore`` (``store``) is the contract: a lease per character with a fencing token, so
a character plays in one shard at a time and a shard presumed dead cannot overwrite the newer
copy. ``SqliteCharacters`` keeps them in one file for the processes of one machine;
``RedisCharacters`` on the cluster's Redis (run it with persistence on). Records are opaque JSON
objects: the world decides what a character is (``GameHook.characters``).
"""

from ouroboros.characters.redis_store import RedisCharacters
from ouroboros.characters.sqlite_store import SqliteCharacters
from ouroboros.characters.store import MAX_RECORD_BYTES, CharacterStore, Record

__all__ = ["MAX_RECORD_BYTES", "CharacterStore", "Record", "RedisCharacters", "SqliteCharacters"]
