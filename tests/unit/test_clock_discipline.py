"""Services, strategies, the matching engine and the backtester read time only from the Clock port.

The rule is ruff's banned-api (TID251), configured in pyproject.toml and lifted
everywhere else by a negated per-file-ignores pattern. Each banned call is fed to
ruff as if it were a file in each guarded package, and in ``jts.app`` where the
wall clock is allowed; a config edit that loses the rule fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUFF = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "TID251"]
RUFF += ["--output-format", "json"]

READS = {
    "time.time": "import time\n\nx = time.time()\n",
    "time.time_ns": "import time\n\nx = time.time_ns()\n",
    "time.monotonic": "from time import monotonic\n\nx = monotonic()\n",
    "time.sleep": "import time\n\ntime.sleep(1)\n",
    "datetime.datetime.now": "from datetime import datetime\n\nx = datetime.now()\n",
    "datetime.datetime.utcnow": "import datetime\n\nx = datetime.datetime.utcnow()\n",
    "datetime.date.today": "from datetime import date\n\nx = date.today()\n",
    "asyncio.sleep": "import asyncio\n\n\nasync def f() -> None:\n    await asyncio.sleep(1)\n",
}


def _banned(source: str, path: str) -> list[str]:
    result = subprocess.run(
        [*RUFF, "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=30,
    )
    assert result.returncode in (0, 1), result.stderr
    return [d["message"].split("`")[1] for d in json.loads(result.stdout)]


@pytest.mark.parametrize("package", ["services/execution", "strategy", "sim", "backtest"])
@pytest.mark.parametrize("name", sorted(READS))
def test_a_clock_read_is_refused_in_code_that_must_use_the_port(package: str, name: str) -> None:
    assert _banned(READS[name], f"src/jts/{package}/planted.py") == [name]


@pytest.mark.parametrize("name", sorted(READS))
def test_the_composition_root_may_use_the_wall_clock(name: str) -> None:
    assert _banned(READS[name], "src/jts/app/planted.py") == []
