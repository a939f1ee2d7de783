"""The dashboard's frame decoder (web/src/frames.ts) against the server's encoder, in node.

Hypothesis draws frames; ``ouroboros.server.stream.encode_frame`` encodes them (JSON under 200
entities, binary from 200); the TypeScript decoder, bundled with the dashboard's own esbuild and
run by node, must give back exactly the same integers. A truncated, padded or mis-stamped binary
frame must be refused with a FrameError, never half-decoded.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ouroboros.server.stream import BINARY_MIN_ENTITIES, encode_frame, world_kinds

ROOT = Path(__file__).resolve().parents[2]
ESBUILD = ROOT / "web" / "node_modules" / ".bin" / "esbuild"
DRIVER = Path(__file__).resolve().parent / "frames_driver.mjs"

u32 = st.integers(0, 2**32 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
entity = st.fixed_dictionaries(
    {
        "id": u32,
        "x": i32,
        "y": i32,
        "energy": st.integers(0, 1000),
        "kind": st.integers(0, 2),
        "flags": st.integers(0, 255),
    }
)
resource = st.fixed_dictionaries({"id": u32, "x": i32, "y": i32})


def _cycled(base: list[dict[str, int]], n: int) -> list[dict[str, int]]:
    return [base[i % len(base)] for i in range(n)]


#: enough entities for a binary frame, drawn as a few distinct ones cycled (a small example)
many_entities = st.builds(
    _cycled, st.lists(entity, min_size=1, max_size=8), st.integers(BINARY_MIN_ENTITIES, 230)
)


class Decoder:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the node decoder exited"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def message(self, msg: bytes | str) -> dict[str, Any]:
        if isinstance(msg, bytes):  # the dashboard knows each world's code from GET /api/worlds
            kinds = {code: name for name, code in world_kinds().items()}
            return self({"b64": base64.b64encode(msg).decode(), "kinds": kinds})
        return self({"json": json.loads(msg)})


@pytest.fixture(scope="module")
def decode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Decoder]:
    node = shutil.which("node")
    if node is None or not ESBUILD.exists():
        pytest.skip("node and web/node_modules are needed (make web installs them)")
    bundle = tmp_path_factory.mktemp("frames") / "frames.mjs"
    subprocess.run(
        [str(ESBUILD), str(ROOT / "web/src/frames.ts"), "--bundle", "--format=esm", "--platform=node",
         f"--outfile={bundle}", "--log-level=error"],
        check=True,
    )  # fmt: skip
    proc = subprocess.Popen(
        [node, str(DRIVER), str(bundle)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        yield Decoder(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)


def _rows(items: list[dict[str, int]], keys: tuple[str, ...]) -> list[list[int]]:
    return [[item[k] for k in keys] for item in items]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    world=st.sampled_from(sorted(world_kinds())),
    tick=st.integers(0, 2**40),
    entities=st.one_of(
        st.lists(entity, max_size=12), st.lists(entity, min_size=BINARY_MIN_ENTITIES, max_size=230)
    ),
    resources=st.lists(resource, max_size=20),
)
def test_the_dashboard_decodes_what_the_server_encodes(
    decode: Decoder, world: str, tick: int, entities: list[dict[str, int]], resources: list[dict[str, int]]
) -> None:
    msg = encode_frame(world, tick, entities, resources)
    assert isinstance(msg, bytes) == (len(entities) >= BINARY_MIN_ENTITIES)
    out = decode.message(msg)
    assert out["ok"], out
    assert out["world"] == world
    assert out["tick"] == (tick % 2**32 if isinstance(msg, bytes) else tick)  # binary: u32 in the header
    assert out["entities"] == _rows(entities, ("id", "x", "y", "energy", "kind", "flags"))
    assert out["resources"] == _rows(resources, ("id", "x", "y"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    entities=many_entities,
    resources=st.lists(resource, max_size=5),
    cut=st.integers(1, 400),
    pad=st.binary(min_size=1, max_size=16),
)
def test_a_damaged_binary_frame_is_refused_whole(
    decode: Decoder, entities: list[dict[str, int]], resources: list[dict[str, int]], cut: int, pad: bytes
) -> None:
    msg = encode_frame("petri", 0, entities, resources)
    assert isinstance(msg, bytes)
    for damaged in (msg[: max(0, len(msg) - cut)], msg + pad, b"XX" + msg[2:], msg[:2] + b"\x03" + msg[3:]):
        out = decode.message(damaged)
        assert out == {"ok": False, "error": "FrameError", "message": out["message"]}, out


def test_the_header_layout_is_the_documented_one(decode: Decoder) -> None:
    ents = [{"id": 7, "x": -3, "y": 5, "energy": 999, "kind": 1, "flags": 1}] * BINARY_MIN_ENTITIES
    msg = encode_frame("neon", 1, ents, [{"id": 9, "x": 1, "y": -1}])
    assert isinstance(msg, bytes)
    assert struct.unpack_from("<HBBHHI", msg) == (0x4F42, 2, 1, BINARY_MIN_ENTITIES, 1, 1)
    out = decode.message(msg)
    assert (
        out["world"] == "neon"
        and out["entities"][0] == [7, -3, 5, 999, 1, 1]
        and out["resources"] == [[9, 1, -1]]
    )


def test_a_json_frame_without_entities_is_refused(decode: Decoder) -> None:
    out = decode({"json": {"type": "frame", "world": "petri", "tick": 1}})
    assert out["ok"] is False and out["error"] == "FrameError"
    out = decode({"json": {"type": "frame", "entities": [{"id": 1, "x": "a", "y": 0}]}})
    assert out["ok"] is False and "entity x" in out["message"]
