"""The admin API's request and response bodies (pydantic v2; strict: a wrong type is a 422 with
the field's path, an unknown field too)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


def _registered(name: str) -> str:
    from ouroboros.worlds import world_names

    if name not in world_names():
        raise ValueError(f"unknown world {name!r} (worlds: {', '.join(world_names())})")
    return name


#: a registered world's name (``ouroboros.worlds.world_names()``)
World = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), AfterValidator(_registered)]
Totp = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
# a name shown in lists: no control, format, private-use or line/paragraph separator characters
Label = Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Health(BaseModel):
    status: str
    worlds: dict[str, int] = Field(description="Each live world's tick.")


class LoginRequest(Body):
    username: UserName | None = None
    secret: str = Field(min_length=1, max_length=256, description="A one-time secret or an API token.")


class LoginResponse(BaseModel):
    token: str
    user: str
    role: str


class Me(BaseModel):
    user: str
    role: str


UserName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,31}$"),
    Field(description="1-32 of a-z, 0-9, _ . - starting with a letter (nothing else, no spaces)."),
]


class NewUser(Body):
    name: UserName
    role: Literal["viewer", "operator", "admin"]
    reason: Reason


class NewToken(Body):
    label: Label = Field("api", max_length=64)
    reason: Reason


class Reasoned(Body):
    reason: Reason


class WorldReasoned(Body):
    world: World
    reason: Reason


class OptionalWorld(Body):
    world: World | None = None
    reason: Reason


class Override(Body):
    """A privileged override: the TOTP code here or in the ``X-TOTP`` header."""

    world: World
    reason: Reason
    totp: Totp | None = None


class KillswitchRelease(Body):
    world: World | None = None
    reason: Reason
    totp: Totp | None = None


class ParamsUpdate(Body):
    world: World
    params: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")], StrictInt] = Field(
        min_length=1, max_length=64
    )
    reason: Reason


class RollbackRequest(Body):
    world: World
    reason: Reason
    to: str | None = Field(
        None, max_length=128, description="A known-good version (default: the one before)."
    )
    to_base: StrictBool = False


class SnapshotRequest(Body):
    world: World
    label: Label = Field("manual", max_length=200)
    reason: Reason


class DirectorUpdate(Body):
    world: World
    sliders: dict[Literal["chaos", "aggression", "expansion"], Annotated[int, Field(ge=0, le=100)]] = {}
    toggles: dict[Literal["glitch_doors_only", "human_in_the_loop"], StrictBool] = {}
    reason: Reason
    totp: Totp | None = Field(
        None, description="Turning human_in_the_loop off is an override: admin and a TOTP code."
    )


class QueueEdit(Body):
    world: World
    payload_patch: dict[str, Any] = Field(description="JSON-pointer keyed replacements of the proposal.")
    reason: Reason


class QueuePropose(Body):
    """Ask the world's council for one proposal, queued for a person's decision."""

    world: World
    type: str = Field(min_length=1, max_length=32, description="A proposal type, e.g. ITEM or NPC.")
    seed: StrictInt = Field(ge=0, le=2**53 - 1, description="The generator's seed (deterministic).")
    context: dict[str, Any] | None = Field(
        None, max_length=16, description='Generator context, e.g. {"growth_point": "neon.room.x"}.'
    )
    reason: Reason


class GuardrailsUpdate(Body):
    guardrails: dict[str, Any]
    reason: Reason


class EvolutionTrigger(Body):
    reason: Reason


class Controlled(BaseModel):
    worlds: list[str]
    paused: bool


class Result(BaseModel):
    """A generic answer: what the runtime or the governor said, as data."""

    model_config = ConfigDict(extra="allow")


__all__ = [
    "Body",
    "Controlled",
    "DirectorUpdate",
    "EvolutionTrigger",
    "GuardrailsUpdate",
    "Health",
    "KillswitchRelease",
    "LoginRequest",
    "LoginResponse",
    "Me",
    "NewToken",
    "NewUser",
    "OptionalWorld",
    "Override",
    "ParamsUpdate",
    "QueuePropose",
    "Reasoned",
    "Result",
    "RollbackRequest",
    "SnapshotRequest",
    "World",
    "WorldReasoned",
]
