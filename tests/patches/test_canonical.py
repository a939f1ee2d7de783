"""RFC 8785 canonical JSON: the published reference vectors, strict parsing, and `patch hash`."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.errors import BadInputError
from ouroboros.patches.canonical import canonical_bytes, load_json, sha256_hex

REPO = Path(__file__).resolve().parents[2]


def _vectors_dir() -> Path:
    """``../shared/peer-vectors/rfc8785`` beside the checkout (or named by OUROBOROS_PEER_VECTORS)."""
    candidates = (
        [Path(os.environ["OUROBOROS_PEER_VECTORS"])] if "OUROBOROS_PEER_VECTORS" in os.environ else []
    )
    candidates += [parent / "shared" / "peer-vectors" for parent in REPO.parents]
    candidates.append(Path("/work/shared/peer-vectors"))
    for base in candidates:
        if (base / "rfc8785" / "input").is_dir():
            return base / "rfc8785"
    raise AssertionError("the RFC 8785 peer vectors are missing (../shared/peer-vectors/rfc8785)")


VECTORS = _vectors_dir()
NAMES = sorted(p.name for p in (VECTORS / "input").glob("*.json"))


def test_there_are_vectors() -> None:
    assert len(NAMES) >= 6


@pytest.mark.parametrize("name", NAMES)
def test_reference_vector(name: str) -> None:
    value = load_json((VECTORS / "input" / name).read_bytes())
    assert canonical_bytes(value) == (VECTORS / "output" / name).read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_patch_hash_prints_sha256_of_the_canonical_form(name: str) -> None:
    result = CliRunner().invoke(app, ["patch", "hash", str(VECTORS / "input" / name)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == hashlib.sha256((VECTORS / "output" / name).read_bytes()).hexdigest()


def test_key_order_and_whitespace_do_not_change_the_hash() -> None:
    a = load_json('{"b": [1, 2, {"y": "é", "x": null}], "a": true}')
    b = load_json('{"a":true,"b":[1,2,{"x":null,"y":"\\u00e9"}]}')
    assert sha256_hex(a) == sha256_hex(b)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b'{"a": NaN}', "not_json"),
        (b'{"a": Infinity}', "not_json"),
        (b"\xff\xfe{}", "not_utf8"),
        (b'{"a": ', "not_json"),
        (b"[" * 100 + b"]" * 100, "too_deep"),
    ],
)
def test_strict_json_refusals(text: bytes, code: str) -> None:
    with pytest.raises(BadInputError) as info:
        load_json(text)
    assert info.value.code == code


def test_integers_beyond_2_53_are_refused_not_rounded() -> None:
    with pytest.raises(BadInputError) as info:
        canonical_bytes({"n": 2**60})
    assert info.value.code == "not_canonical"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b'{"a": 1, "a": 2}', "duplicate key"), (b"not json", "not valid JSON"), (b"\xff", "not UTF-8")],
)
def test_patch_hash_bad_input_exits_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["patch", "hash", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_patch_hash_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["patch", "hash", str(tmp_path / "nope.json")])
    assert result.exit_code == 2


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(max_size=20)
    | st.floats(min_value=-1e15, max_value=1e15)
    | st.floats(min_value=1e-300, max_value=1e-10),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_form_is_a_fixed_point_and_parses_back(value: object) -> None:
    once = canonical_bytes(value)
    again = canonical_bytes(load_json(once))
    assert once == again
    assert json.loads(once) == json.loads(json.dumps(value))
