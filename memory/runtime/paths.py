"""Where Memoir keeps a user's data, and the permissions that keep it private."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import platformdirs

APP_NAME = "Memoir"
HOME_ENV = "MEMOIR_HOME"


def data_dir() -> Path:
    """The per-user data directory, created with mode 0700 (``MEMOIR_HOME`` overrides it)."""
    override = os.environ.get(HOME_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    return ensure_private_dir(path)


def restrict_new_files() -> None:
    """Make every file and folder created from now on, by any library, readable by the user only.

    SQLite, Chroma, Qt and the export writer each create files their own way; a process umask of 077
    covers them all (0600 files, 0700 folders) without chasing each one.
    """
    os.umask(0o077)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` if needed and make it readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # e.g. a filesystem without POSIX modes
        os.chmod(path, 0o700)
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in 1 MB blocks (model files are hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
