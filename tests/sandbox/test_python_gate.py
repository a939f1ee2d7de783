"""The static gate for Python traits: what it lets through and what it refuses, with the line."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ouroboros.sandbox import FaultCode
from ouroboros.sandbox.python_gate import check_python_trait, source_sha256

GOOD = '''
"""Seek food, with a little noise."""

import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

GAIN = 3
SCALE: int = 16


@dataclass(frozen=True)
class Gene:
    weight: int = 2
    tags: tuple = field(default=())


@lru_cache(maxsize=16)
def halve(v: int) -> int:
    return v // 2


class SeekFood(Trait):
    def __init__(self) -> None:
        self._gene = Gene()

    async def execute(self, entity, scale: Optional[int] = None):
        if entity.food_count > 0:
            entity.thrust_x = halve(entity.food_dx) * self._gene.weight
            entity.thrust_y = halve(entity.food_dy)
        entity.energy_gain = int(math.sqrt(GAIN)) + random.randint(0, 1)
        label = "{} at {:>4}".format(entity.id, entity.x)
        return None if label else (0, 0)
'''


def wrap(body: str) -> str:
    """A valid trait whose execute runs ``body``."""
    return "class T(Trait):\n    async def execute(self, entity):\n" + textwrap.indent(body, " " * 8) + "\n"


def test_python_gate_passes_a_well_behaved_trait() -> None:
    assert check_python_trait(GOOD) == []


@pytest.mark.parametrize(
    ("source", "code", "line"),
    [
        ("class T(Trait)\n    pass\n", FaultCode.SYNTAX, 1),
        ("import os\n" + wrap("pass"), FaultCode.FORBIDDEN_IMPORT, 1),
        ("from subprocess import run\n" + wrap("pass"), FaultCode.FORBIDDEN_IMPORT, 1),
        ("from random import _os\n" + wrap("pass"), FaultCode.FORBIDDEN_IMPORT, 1),
        ("from . import x\n" + wrap("pass"), FaultCode.FORBIDDEN_IMPORT, 1),
        (wrap("x = entity.__class__"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = [].__class__.__mro__"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = type(entity).mro()"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = eval('1')"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = __builtins__"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = type('X', (), {})"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = entity._secret"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = (i for i in []).gi_frame"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = '{0.x}'.format(entity)"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = '{0[0]}'.format([1])"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = '{x}'.format_map({})"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = 'gi_frame'"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = f'{entity.__class__!r}'"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("def getattr(a, b):\n    return a"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("def g(x: s):\n    pass\nx = typing.get_type_hints(g)"), FaultCode.FORBIDDEN_NAME, 5),
        ("from typing import get_type_hints\n" + wrap("pass"), FaultCode.FORBIDDEN_IMPORT, 1),
        (wrap("x = typing.ForwardRef(s)"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = functools.singledispatch(len)"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("functools.update_wrapper(entity, len, (), ('x',))"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("x = 'get_type_hints'"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("f = ('{0.' + s + '}').format\nx = f(entity)"), FaultCode.FORBIDDEN_NAME, 3),
        (wrap("def g(x=len(())):\n    pass"), FaultCode.MODULE_CODE, 3),
        (wrap("def g(x: (lambda: 1)()):\n    pass"), FaultCode.MODULE_CODE, 3),
        (wrap("def g():\n    def h(x: len(())):\n        pass"), FaultCode.MODULE_CODE, 4),
        (wrap("@(lambda f: f)\ndef g():\n    pass"), FaultCode.MODULE_CODE, 3),
        (wrap("h = lambda x=len(()): x"), FaultCode.MODULE_CODE, 3),
        ("print('hi')\n" + wrap("pass"), FaultCode.MODULE_CODE, 1),
        ("X = len('abc')\n" + wrap("pass"), FaultCode.MODULE_CODE, 1),
        ("if True:\n    X = 1\n" + wrap("pass"), FaultCode.MODULE_CODE, 1),
        ("@(lambda c: c)\n" + wrap("pass"), FaultCode.MODULE_CODE, 1),
        ("def spin(c):\n    return c\n@spin\n" + wrap("pass"), FaultCode.MODULE_CODE, 3),
        (
            "def spin():\n    return 1\nclass T(Trait):\n    x = spin()\n    async def execute(self, e):\n"
            "        pass\n",
            FaultCode.MODULE_CODE,
            4,
        ),
        (
            "class T(Trait, metaclass=Trait):\n    async def execute(self, e):\n        pass\n",
            FaultCode.MODULE_CODE,
            1,
        ),
        ("def f(x=len('a')):\n    return x\n" + wrap("pass"), FaultCode.MODULE_CODE, 1),
        (
            "class T(Trait):\n    x = [i for i in range(9)]\n    async def execute(self, e):\n        pass\n",
            FaultCode.MODULE_CODE,
            2,
        ),
        ("class T:\n    async def execute(self, entity):\n        pass\n", FaultCode.CONTRACT, 0),
        (wrap("pass") + wrap("pass").replace("class T", "class U"), FaultCode.CONTRACT, 0),
        ("class T(Trait):\n    def execute(self, entity):\n        pass\n", FaultCode.CONTRACT, 1),
        ("class T(Trait):\n    async def execute(self):\n        pass\n", FaultCode.CONTRACT, 2),
        ("class T(Trait):\n    async def execute(self, entity):\n        yield 1\n", FaultCode.CONTRACT, 2),
    ],
)
def test_python_gate_refuses_with_a_code_and_the_line(source: str, code: FaultCode, line: int) -> None:
    faults = check_python_trait(source)
    assert faults, "the gate let it through"
    assert faults[0].code is code, faults
    assert faults[0].message.startswith(f"line {line}:"), faults[0].message


def test_python_gate_caps_the_source_size_and_deduplicates_by_sha256() -> None:
    big = wrap("pass") + "#" * 70_000
    assert [f.code for f in check_python_trait(big)] == [FaultCode.SOURCE_TOO_LARGE]
    assert check_python_trait(big, max_source_bytes=100_000) == []
    digest = source_sha256(GOOD)
    assert len(digest) == 64 and digest == source_sha256(GOOD)
    assert [f.code for f in check_python_trait(GOOD, known_sha256={digest})] == [FaultCode.DUPLICATE]
    assert check_python_trait(GOOD, known_sha256={source_sha256(GOOD + " ")}) == []


def test_python_gate_reports_every_finding() -> None:
    faults = check_python_trait("import os\nimport sys\n" + wrap("x = getattr(entity, 'x')"))
    assert [f.code for f in faults] == [
        FaultCode.FORBIDDEN_IMPORT,
        FaultCode.FORBIDDEN_IMPORT,
        FaultCode.FORBIDDEN_NAME,
    ]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_python_gate_never_raises_on_arbitrary_text(source: str) -> None:
    faults = check_python_trait(source)
    assert isinstance(faults, list)
    assert all(f.message.startswith("line ") or f.code is FaultCode.SOURCE_TOO_LARGE for f in faults)
