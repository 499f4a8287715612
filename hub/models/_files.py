"""The model directory: paths inside it, and files stored by their content hash.

``model_file_path`` (seed 4.2.2) names a file inside the configured model directory,
relative to it (or absolute, if it is inside). It is refused **before anything is read**
when it has a ``..`` part, is absolute elsewhere, or resolves (through symlinks) out of the
directory; the file opened is the resolved one, opened without following a last symlink,
and checked to be the same inode as the one that was resolved.

Registered files are copied to ``<model_dir>/store/<sha256[:2]>/<sha256>`` (written to a
temporary name and renamed, so a reader never sees half a file) and read back from there,
their hash checked again on every load.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path, PurePath

STORE = "store"


class PathRefusedError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def model_root(model_dir: str) -> Path:
    """The model directory, resolved (created if missing)."""
    root = Path(model_dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve(strict=True)


def resolve_inside(root: Path, requested: str) -> Path:
    """The real path of ``requested`` if it is a regular file inside ``root``; raises
    :class:`PathRefusedError` otherwise. Reads no file content."""
    if not requested or "\x00" in requested:
        raise PathRefusedError("empty or not a path")
    parts = PurePath(requested).parts
    if ".." in parts:
        raise PathRefusedError("'..' is not allowed in model_file_path")
    candidate = Path(requested) if Path(requested).is_absolute() else root / requested
    if not _within(Path(os.path.normpath(candidate)), root):
        raise PathRefusedError("model_file_path is outside the model directory")
    real = Path(os.path.realpath(candidate))
    if not _within(real, root):
        raise PathRefusedError("model_file_path leads out of the model directory (a symlink)")
    if not real.is_file():
        raise PathRefusedError("model_file_path is not a file in the model directory")
    return real


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def read_inside(real: Path, max_bytes: int) -> bytes:
    """The content of a path :func:`resolve_inside` returned (the same inode, no symlink
    swapped in since, at most ``max_bytes``)."""
    expected = real.stat()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise PathRefusedError(f"cannot open model_file_path: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        got = os.fstat(handle.fileno())
        if (got.st_dev, got.st_ino) != (expected.st_dev, expected.st_ino):
            raise PathRefusedError("model_file_path changed while it was being opened")
        if got.st_size > max_bytes:
            raise PathRefusedError(f"the model file is larger than {max_bytes} bytes")
        return handle.read(max_bytes + 1)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_path(digest: str) -> str:
    """Where a file with this hash is stored, relative to the model directory."""
    return f"{STORE}/{digest[:2]}/{digest}"


def store(root: Path, data: bytes) -> tuple[str, bool]:
    """Store ``data`` by its hash; returns the relative path and whether it was new."""
    digest = sha256(data)
    relative = stored_path(digest)
    target = root / relative
    if target.is_file():
        return relative, False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return relative, True


def unstore(root: Path, relative: str) -> None:
    """Remove a file :func:`store` wrote (its registration did not commit)."""
    with contextlib.suppress(FileNotFoundError):
        (root / relative).unlink()


def load_stored(root: Path, relative: str, digest: str) -> bytes:
    """A stored file's content, its hash checked."""
    data = (root / relative).read_bytes()
    if sha256(data) != digest:
        raise PathRefusedError(f"stored model file {relative} does not match its hash")
    return data


__all__ = [
    "PathRefusedError",
    "load_stored",
    "model_root",
    "read_inside",
    "resolve_inside",
    "sha256",
    "store",
    "stored_path",
    "unstore",
]
