"""World parameters: integer settings of one world, by name.

Content checks the shape only (names, integers that survive canonical JSON); the world plugin
checks names and bounds of its own parameters when the patch is replayed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ouroboros.content._base import DomainObject, Id
from ouroboros.content.limits import LIMITS

__all__ = ["PARAM_NAME_PATTERN", "WorldParams"]

PARAM_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
ParamName = Annotated[str, StringConstraints(pattern=PARAM_NAME_PATTERN)]
ParamValue = Annotated[int, Field(ge=-LIMITS.max_abs_json_int, le=LIMITS.max_abs_json_int)]


class WorldParams(DomainObject):
    """Parameter values for ``world`` (fixed point where the name ends in ``_fp``)."""

    world: Id
    params: Annotated[dict[ParamName, ParamValue], Field(min_length=1, max_length=LIMITS.max_world_params)]
