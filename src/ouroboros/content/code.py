"""Code that a patch may carry: sandboxed scripts, and petri behaviour traits that run them.

Content only checks shape and size here; the sandbox checks the source itself (syntax, banned
names, entry point) before anything runs.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from ouroboros.content._base import Description, DomainObject, Id, StrictModel, content_error
from ouroboros.content.limits import LIMITS

__all__ = ["Script", "ScriptBudgets", "ScriptLanguage", "Trait", "TraitKind"]

ScriptLanguage = Literal["lua", "python"]
TraitKind = Literal["builtin", "lua", "python"]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
BuiltinName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


def _source_size(source: str) -> str:
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > LIMITS.max_script_source_bytes:
        raise content_error(
            "out_of_bounds", f"source is {size} bytes, more than {LIMITS.max_script_source_bytes}"
        )
    if "\x00" in source:
        raise content_error("bad_value", "source contains a NUL character")
    return source


class ScriptBudgets(StrictModel):
    """Per-call limits the sandbox enforces; lower than its defaults, never higher."""

    instructions_per_call: int | None = Field(default=None, ge=1, le=LIMITS.max_script_instructions_per_call)
    memory_bytes: int | None = Field(default=None, ge=1, le=LIMITS.max_script_memory_bytes)


class Script(DomainObject):
    """Source code in ``language``; the host calls ``entry`` (a function, or a class for Python)."""

    language: ScriptLanguage
    source: Annotated[
        str,
        StringConstraints(min_length=1, max_length=LIMITS.max_script_source_bytes),
        AfterValidator(_source_size),
    ]
    entry: Identifier
    budgets: ScriptBudgets = Field(default_factory=ScriptBudgets)


class Trait(DomainObject):
    """A petri behaviour trait: a builtin by name, or a Lua/Python script (whose language must be
    the trait's ``kind``). ``migrate`` says what happens to molbots carrying the previous version:
    ``keep`` the old behaviour until they die, or ``replace`` it at the next tick boundary."""

    world: Literal["petri"]
    kind: TraitKind
    builtin: BuiltinName | None = None
    script: Id | None = None
    migrate: Literal["keep", "replace"] = "keep"
    description: Description | None = None

    @model_validator(mode="after")
    def _builtin_xor_script(self) -> Self:
        if self.kind == "builtin":
            if self.builtin is None:
                raise content_error("missing_field", "a builtin trait names its builtin", at="builtin")
            if self.script is not None:
                raise content_error("bad_value", "a builtin trait has no script", at="script")
        else:
            if self.script is None:
                raise content_error("missing_field", f"a {self.kind} trait needs a script id", at="script")
            if self.builtin is not None:
                raise content_error("bad_value", f"a {self.kind} trait names no builtin", at="builtin")
        return self
