"""Crash-safe small files: a file is either its old bytes or its new bytes, never a mix.

The classic sequence (as SQLite and every careful database does it): write a temporary file in the
same folder, fsync it, rename it over the target (atomic on POSIX), fsync the folder so the rename
itself survives a power cut. ``FileSystem`` is the seam the crash tests use: a fault-injecting
implementation drops or tears writes at a simulated crash.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol


class FileSystem(Protocol):
    def write_fsync(self, path: Path, data: bytes) -> None: ...
    def rename(self, src: Path, dst: Path) -> None: ...
    def fsync_dir(self, path: Path) -> None: ...
    def unlink(self, path: Path) -> None: ...


class RealFileSystem:
    def write_fsync(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def rename(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def unlink(self, path: Path) -> None:
        path.unlink(missing_ok=True)


REAL_FS = RealFileSystem()


def write_atomic(path: Path, data: bytes, fs: FileSystem = REAL_FS) -> None:
    """Replace ``path`` with ``data`` so that a crash at any point leaves the old or the new file."""
    temp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fs.write_fsync(temp, data)
        fs.rename(temp, path)
    except BaseException:
        fs.unlink(temp)
        raise
    fs.fsync_dir(path.parent)


def clean_temporaries(folder: Path, name: str) -> int:
    """Remove temporaries a crash left behind for ``name`` (they were never renamed, so never
    current). Returns how many were removed."""
    removed = 0
    for leftover in folder.glob(f".{name}.*.tmp"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed
