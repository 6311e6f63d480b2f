"""The data folder, checked before anything writes to it.

A folder that cannot be used would otherwise fail deep inside SQLite, chDB or an
``mkdir`` with a traceback; here it fails once, naming the folder and what is wrong.
A missing parent is refused rather than created: it is most often a typo in
``data_dir``, and creating it would scatter a database somewhere unexpected.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from jts.domain.errors import ConfigurationError


def prepare_data_dir(folder: Path) -> Path:
    """``folder`` ready to be written (created when its parent exists), or ConfigurationError."""
    folder = folder.expanduser()
    hint = "set data_dir (JTS_DATA_DIR) to a folder you can write"
    if folder.exists():
        if not folder.is_dir():
            raise ConfigurationError(f"data folder {folder} is not a folder; {hint}")
        problem = writing_problem(folder)
        if problem is not None:
            raise ConfigurationError(f"data folder {folder} is not writable ({problem}); {hint}")
        return folder
    parent = folder.parent
    if not parent.is_dir():
        raise ConfigurationError(
            f"data folder {folder} cannot be created: {parent} does not exist "
            f"(create it first, or {hint})"
        )
    try:
        folder.mkdir()
    except FileExistsError:
        return prepare_data_dir(folder)  # made by a process starting beside this one
    except OSError as exc:
        raise ConfigurationError(
            f"data folder {folder} cannot be created in {parent} ({exc.strerror}); {hint}"
        ) from None
    return folder


def writing_problem(folder: Path) -> str | None:
    """Why a file cannot be created in ``folder``, or None when one can.

    A probe file, not ``os.access``: that says yes to root on a read-only mount.
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)
