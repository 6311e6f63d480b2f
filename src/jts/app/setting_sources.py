"""Where a setting's value came from, so an error names the variable or the TOML line to fix.

pydantic reports a bad value by its path (``feed.sessions``) only. Settings come from
command options, ``JTS_*`` variables and the TOML file, in that order of precedence;
this module answers which of them gave the value at a path, and reads the TOML file
itself first so a syntax error is reported with the file, line and column.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jts.domain.errors import ConfigurationError

Key = tuple[str, ...]

_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_\-."' ]+?)\s*=""")
_WHERE = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")


@dataclass(frozen=True, slots=True)
class TomlFile:
    """A settings file that parsed, and the line each key or table starts on."""

    path: Path
    lines: Mapping[Key, int]

    def line_of(self, loc: Sequence[str]) -> int | None:
        """The line of the deepest key or table along ``loc`` that the file spells out."""
        for end in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def read_toml(path: Path) -> TomlFile | None:
    """The file at ``path`` (None when there is none); a syntax error names file and line."""
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the settings file {path}: {exc}") from None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _WHERE.match(str(exc))
        if where is None:
            raise ConfigurationError(f"settings file {path}: {exc}") from None
        raise ConfigurationError(
            f"settings file {path} line {where['line']}, column {where['column']}: {where['msg']}"
        ) from None
    return TomlFile(path, _key_lines(text))


def _parts(dotted: str) -> Key:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


def _key_lines(text: str) -> dict[Key, int]:
    """Line numbers of tables and keys; ``[[x]]`` tables are numbered like pydantic's locs."""
    lines: dict[Key, int] = {}
    counts: dict[Key, int] = {}
    table: Key = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _ARRAY_TABLE.match(line):
            name = _parts(match[1])
            counts[name] = counts.get(name, -1) + 1
            table = (*name, str(counts[name]))
        elif match := _TABLE.match(line):
            table = _parts(match[1])
        elif match := _KEY.match(line):
            key = (*table, *_parts(match[1]))
            for end in range(len(table) + 1, len(key) + 1):
                lines.setdefault(key[:end], number)
            continue
        else:
            continue
        for end in range(1, len(table) + 1):
            lines.setdefault(table[:end], number)
    return lines


def source_of(
    loc: Sequence[str],
    *,
    prefix: str,
    overrides: Mapping[str, Any],
    toml: TomlFile | None,
) -> str:
    """Which source gave the value at ``loc``: a command option, a variable or a TOML line."""
    if loc and loc[0] in overrides:
        return "command option"
    present = {name.upper() for name in os.environ}
    for end in range(len(loc), 0, -1):
        variable = prefix + "__".join(loc[:end]).upper()
        if variable in present:
            return f"env {variable}"
    if toml is not None:
        line = toml.line_of(loc)
        if line is not None:
            return f"{toml.path} line {line}"
    return f"env {prefix}{'__'.join(loc).upper()}"
