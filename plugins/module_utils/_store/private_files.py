# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Files and folders only their owner can read (0600 / 0700), whatever the umask.

Backups are copies of production tables, and run reports and plans name them: nobody else on the
controller may read them. Modes are given at creation, so no file is ever readable by others, even
for an instant; folders are made 0700 only where we create them, never the user's existing ones.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def make_private_dirs(folder: Path) -> None:
    """Create `folder` and its missing ancestors 0700; folders that already exist are left as they are."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, FOLDER_MODE)
        except FileExistsError:
            continue  # another writer made it at the same moment, with the same mode
        os.chmod(path, FOLDER_MODE)  # the umask may have taken bits off


def open_private(path: Path, flags: int = os.O_TRUNC) -> BinaryIO:
    """Open `path` for writing as a 0600 file; `flags=os.O_EXCL` fails (FileExistsError) when it exists."""
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a file that was there already, or a umask that took the owner's bits
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write a whole 0600 file at once: readers see the old file or the new one, never half of it.

    With `exclusive`, FileExistsError when `path` exists (nothing is replaced).
    """
    make_private_dirs(path.parent)
    # mkstemp: 0600, and a name of its own, so two writers never share a tmp file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fd, FILE_MODE)  # mkstemp's 0600 is still cut by the umask
            fh.write(data)
        if exclusive:
            os.link(tmp, path)  # fails when the name exists
        else:
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
