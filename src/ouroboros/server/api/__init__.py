"""The admin API of a live runtime (FastAPI): ``create_app(runtime, settings=ApiSettings())``.

See ``app`` for what it promises and ``auth`` for roles, tokens, TOTP and the audit.
"""

from ouroboros.errors import AuthError
from ouroboros.server.api.app import ApiSettings, create_app
from ouroboros.server.api.auth import ROLES, AuthStore, FirstAdmin, User

__all__ = ["ROLES", "ApiSettings", "AuthError", "AuthStore", "FirstAdmin", "User", "create_app"]
