"""Only the Creon bridge may load the Windows COM bindings, even through importlib.

``lint-imports`` sees ``import win32com`` but not ``importlib.import_module("win32com")``,
which is how the bridge itself loads them. So every other module of ``jts`` is
imported in a fresh interpreter that records any attempt to find a COM module, and
the source outside the bridge is scanned for COM module names written as strings.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jts

COM = ("win32com", "pythoncom", "pywintypes")
ROOT = Path(jts.__file__).resolve().parent
# The bridge owns COM; ``python -m jts`` runs the CLI when imported; Alembic's env.py
# runs migrations when imported.
OUTSIDE = ("jts.brokers.creon.bridge", "jts.__main__", "jts.storage.sql.migrations")

WATCH = textwrap.dedent(
    """
    import importlib, importlib.abc, json, sys

    com, names = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    attempts, current = [], [None]

    class Watch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in com:
                attempts.append([current[0], name])  # [being imported, COM module]
            return None

    sys.meta_path.insert(0, Watch())
    for name in names:
        current[0] = name
        importlib.import_module(name)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in com)
    print(json.dumps({"attempts": attempts, "loaded": loaded}))
    """
)


def _module_names(root: Path, package: str, outside: tuple[str, ...]) -> list[str]:
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if not any(name == o or name.startswith(o + ".") for o in outside):
            names.append(name)
    return names


def _com_loads(names: list[str], path: Path) -> dict[str, list[object]]:
    result = subprocess.run(
        [sys.executable, "-c", WATCH, json.dumps(COM), json.dumps(names)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loads: dict[str, list[object]] = json.loads(result.stdout.splitlines()[-1])
    return loads


def _com_names_in_source(root: Path, package: str, outside: tuple[str, ...]) -> list[str]:
    """Import statements of COM modules, and COM module names as string constants."""
    found = []
    for name in _module_names(root, package, outside):
        relative = Path(*name.split(".")[1:])
        path = root / relative / "__init__.py"
        if not path.exists():
            path = (root / relative).with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                modules = [node.value]
            else:
                continue
            found += [f"{name}: {m}" for m in modules if m.split(".")[0] in COM]
    return found


def test_no_module_outside_the_bridge_loads_com() -> None:
    names = _module_names(ROOT, "jts", OUTSIDE)
    assert "jts.brokers.creon.errors" in names  # the walk found the tree
    loads = _com_loads(names, ROOT.parent)
    assert loads == {"attempts": [], "loaded": []}


def test_no_module_outside_the_bridge_names_a_com_module() -> None:
    assert _com_names_in_source(ROOT, "jts", OUTSIDE) == []


def test_both_checks_see_a_load_through_importlib(tmp_path: Path) -> None:
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sneaky.py").write_text(
        "import importlib\n\n"
        "try:\n"
        "    importlib.import_module('win32com.client')\n"
        "except ImportError:\n"
        "    pass\n"
    )
    names = _module_names(package, "planted", ())
    assert _com_loads(names, tmp_path)["attempts"] == [["planted.sneaky", "win32com"]]
    assert _com_names_in_source(package, "planted", ()) == ["planted.sneaky: win32com.client"]
