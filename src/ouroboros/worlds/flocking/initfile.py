"""Start states and activation orders from an ``.npz`` file, and the end state back to one.

An init file holds ``pos0`` and ``vel0`` (float64, shape Nx2) and, optionally, ``orders`` (integers,
steps×N, each row a permutation of 0..N-1: the activation order of step t is ``orders[t]``).
Everything is checked before a world is built; a bad file is one ``WorldError`` naming what is
wrong. The world records the file's path and SHA-256 in its config, so a replay or a snapshot
rebuilds the same world from the same file, and refuses a file that changed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ouroboros.errors import WorldError

MAX_INIT_BYTES = 1 << 31


@dataclass(frozen=True)
class InitState:
    pos0: npt.NDArray[np.float64]
    vel0: npt.NDArray[np.float64]
    orders: npt.NDArray[np.int64] | None
    sha256: str


def _array(npz: np.lib.npyio.NpzFile, key: str, path: str) -> npt.NDArray[np.float64]:
    a = npz[key]
    if a.ndim != 2 or a.shape[1] != 2 or a.dtype.kind not in "fiu":
        raise WorldError(
            f"init file {path}: {key} must be a numeric Nx2 array, got {a.dtype} {a.shape}", path=key
        )
    out = np.ascontiguousarray(a, dtype=np.float64)
    if not np.isfinite(out).all():
        raise WorldError(f"init file {path}: {key} holds a NaN or an infinity", path=key)
    return out


def read_init(path: str | Path, width: float, height: float, expect_sha256: str | None = None) -> InitState:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise WorldError(f"cannot read init file {p}: {exc.strerror or exc}", path=str(p)) from exc
    if len(data) > MAX_INIT_BYTES:
        raise WorldError(f"init file {p} is larger than {MAX_INIT_BYTES} bytes", path=str(p))
    sha = hashlib.sha256(data).hexdigest()
    if expect_sha256 is not None and sha != expect_sha256:
        raise WorldError(f"init file {p} changed since this world was made (sha256 differs)", path=str(p))
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise WorldError(f"init file {p} is not a readable .npz file: {exc}", path=str(p)) from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise WorldError(f"init file {p} is a single array, not an .npz with pos0 and vel0", path=str(p))
    with npz:
        missing = {"pos0", "vel0"} - set(npz.files)
        if missing:
            raise WorldError(f"init file {p} lacks {', '.join(sorted(missing))}", path=str(p))
        try:
            pos0 = _array(npz, "pos0", str(p))
            vel0 = _array(npz, "vel0", str(p))
            raw_orders = npz["orders"] if "orders" in npz.files else None
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # pickled or damaged member
            raise WorldError(f"init file {p}: {exc}", path=str(p)) from exc
    n = pos0.shape[0]
    if vel0.shape[0] != n:
        raise WorldError(f"init file {p}: pos0 has {n} birds, vel0 {vel0.shape[0]}", path="vel0")
    if ((pos0 < 0) | (pos0[:, :1] > width) | (pos0[:, 1:] > height)).any():
        raise WorldError(
            f"init file {p}: pos0 lies outside the extent [0, {width}]x[0, {height}] (pick the --preset "
            "whose extent the file was made for)",
            path="pos0",
        )
    orders = None
    if raw_orders is not None:
        if raw_orders.ndim != 2 or raw_orders.shape[1] != n or raw_orders.dtype.kind not in "iu":
            raise WorldError(
                f"init file {p}: orders must be an integer steps x {n} array, "
                f"got {raw_orders.dtype} {raw_orders.shape}",
                path="orders",
            )
        orders = np.ascontiguousarray(raw_orders, dtype=np.int64)
        expected = np.arange(n, dtype=np.int64)
        bad = [t for t in range(orders.shape[0]) if not np.array_equal(np.sort(orders[t]), expected)]
        if bad:
            raise WorldError(
                f"init file {p}: orders[{bad[0]}] is not a permutation of 0..{n - 1}", path="orders"
            )
    return InitState(pos0, vel0, orders, sha)


def end_state(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    vx: npt.NDArray[np.float64],
    vy: npt.NDArray[np.float64],
) -> dict[str, npt.NDArray[np.float64]]:
    """``pos`` and ``vel`` (Nx2 float64, bird order) as ``--dump`` writes them."""
    return {"pos": np.stack((x, y), axis=1), "vel": np.stack((vx, vy), axis=1)}
