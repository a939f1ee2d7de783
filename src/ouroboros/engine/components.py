"""Component specifications: a name and integer fields.

Reproducible state is integer or fixed-point by construction: a component field may only be a
signed or unsigned integer or a bool. A float field is refused at registration, so no world can
put state in the digest that differs between machines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import numpy as np

from ouroboros.engine.errors import ComponentError

#: dtypes a component field (and a snapshot) may hold, by their canonical little-endian name.
ALLOWED_DTYPES: frozenset[str] = frozenset({"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def canonical_dtype(spec: object) -> np.dtype[np.generic]:
    """The little-endian dtype for ``spec``, or ``ComponentError`` if it is not an allowed one."""
    try:
        dtype = np.dtype(spec)  # type: ignore[call-overload]
    except TypeError as exc:
        raise ComponentError(f"not a dtype: {spec!r}") from exc
    dtype = dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype
    if dtype.str not in ALLOWED_DTYPES:
        raise ComponentError(f"dtype {dtype} is not an integer or bool type")
    return dtype


@dataclass(frozen=True)
class Component:
    """A named group of integer fields, stored as one numpy array per field (SoA)."""

    name: str
    fields: tuple[tuple[str, str], ...]

    def __init__(self, name: str, **fields: object) -> None:
        if not _NAME.match(name):
            raise ComponentError(f"bad component name {name!r}")
        if not fields:
            raise ComponentError(f"component {name} has no fields")
        checked: list[tuple[str, str]] = []
        for field, dtype in fields.items():
            if not _NAME.match(field):
                raise ComponentError(f"bad field name {name}.{field}")
            checked.append((field, canonical_dtype(dtype).str))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "fields", tuple(checked))
        # (field, "Component.field") pairs, for per-entity access without building keys each time
        object.__setattr__(self, "column_keys", tuple((f, f"{name}.{f}") for f, _ in checked))

    column_keys: tuple[tuple[str, str], ...] = dataclass_field(compare=False, repr=False)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.fields)

    def dtype_of(self, field: str) -> np.dtype[np.generic]:
        for f, d in self.fields:
            if f == field:
                return np.dtype(d)
        raise ComponentError(f"component {self.name} has no field {field!r}")
