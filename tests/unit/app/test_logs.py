"""A logged traceback never shows local variables: KIS secrets and SQL parameters live there.

A KIS request's headers (app key, app secret, bearer token) and a failed statement's
parameters are locals of the frames a traceback walks through. The fault is injected
inside httpx, so the error is raised deep in a real KIS call, and the adapter's own
``log.exception`` (the order poll loop) logs it; the CLI case lets the error escape a
command to the uncaught-exception hook, in a real ``jts`` process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from fakes.kis_server import P_CCLD
from fakes.kis_server import FakeKis
from fakes.kis_venue import APP_KEY
from fakes.kis_venue import APP_SECRET
from fakes.kis_venue import CANO
from fakes.kis_venue import HTS_ID
from fakes.kis_venue import kis_venue
from fakes.venue_harness import Reports
from jts.app.logs import configure_logging
from jts.domain.enums import OrderStatus
from jts.domain.enums import OrderType
from jts.domain.enums import Side
from jts.domain.errors import StorageError
from jts.domain.orders import Order
from jts.storage.sql.repositories import SqlStore

SQL_PARAMETER = "sqlparam-5e1f0c2b"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Where the handler ``configure_logging`` installs writes, once ``logged_to`` points it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def logged_to(out: io.StringIO, *, json_lines: bool) -> None:
    configure_logging("DEBUG", json=json_lines)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)  # it writes to sys.stderr, which pytest swaps between phases


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text
        # Rich cuts long locals at 80 characters: not even a truncated one.
        assert secret[:24] not in text and secret[-24:] not in text


@pytest.mark.parametrize("json_lines", [False, True], ids=["console", "json"])
async def test_a_kis_call_failing_at_debug_logs_no_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_output: io.StringIO,
    json_lines: bool,
) -> None:
    logged_to(log_output, json_lines=json_lines)
    real_send = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> Any:
        if request.url.path == P_CCLD and os.environ.get("JTS_TEST_BREAK_INQUIRY"):
            raise RuntimeError("injected fault inside a KIS inquiry")
        return await real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    async with kis_venue(tmp_path) as h:
        reports = Reports()
        h.execution.set_report_handler(reports)
        order = Order(
            "KRX:005930", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(70_000), 1, "kis",
            client_order_id="tb-1",
        )  # fmt: skip
        await h.execution.submit_order(order)
        await reports.wait_for("tb-1", OrderStatus.ACCEPTED)
        # The order is open: the poll loop inquires every 0.2 s and logs what it cannot handle.
        monkeypatch.setenv("JTS_TEST_BREAK_INQUIRY", "1")
        for _ in range(100):
            if "order poll failed" in log_output.getvalue():
                break
            await asyncio.sleep(0.05)
        monkeypatch.delenv("JTS_TEST_BREAK_INQUIRY")
        token = (await h.session.rest.token()).value
        approval = h.session.realtime._approval_key if h.session.realtime else None
    assert approval is not None
    text = log_output.getvalue()
    assert "order poll failed" in text
    assert "injected fault inside a KIS inquiry" in text  # the traceback itself was logged
    if json_lines:
        record = next(json.loads(line) for line in text.splitlines() if "order poll failed" in line)
        assert record["exception"][0]["frames"]  # a structured traceback, frames and all
    assert_no_secret(text, [APP_KEY, APP_SECRET, token, approval])


@pytest.mark.parametrize("json_lines", [False, True], ids=["console", "json"])
async def test_a_failed_statement_logs_no_sql_parameter(
    sqlite_url: str, log_output: io.StringIO, json_lines: bool
) -> None:
    from jts.storage.sql.migrate import upgrade

    logged_to(log_output, json_lines=json_lines)
    upgrade(sqlite_url)
    store = SqlStore.open(sqlite_url)
    order = Order(
        "KRX:005930", Side.BUY, OrderType.LIMIT, Decimal(1), Decimal(70_000), 1, "paper",
        signal_id=SQL_PARAMETER,
    )  # fmt: skip
    failed = False
    try:
        await store.orders.add(order)
        # The same order id under a new client id: an integrity error, not a duplicate.
        await store.orders.add(dataclasses.replace(order, client_order_id="tb-2"))
    except StorageError:
        failed = True
        logging.getLogger("jts.test").exception("storing the order failed")
    finally:
        await store.close()
    assert failed
    text = log_output.getvalue()
    assert "storing the order failed" in text and "IntegrityError" in text
    assert SQL_PARAMETER not in text


# The fault is injected into the jts process itself, then the command line runs as usual.
CLI_DRIVER = """
import sys
import httpx

real_send = httpx.AsyncClient.send

async def send(self, request, **kwargs):
    if request.url.path.startswith("/uapi/"):
        raise RuntimeError("injected fault inside a KIS call")
    return await real_send(self, request, **kwargs)

httpx.AsyncClient.send = send
sys.argv = ["jts", *sys.argv[1:]]
from jts.cli.main import main
main()
"""


async def test_an_uncaught_error_in_a_kis_call_shows_no_secret(tmp_path: Path) -> None:
    async with FakeKis(token_issue_interval_seconds=0.0) as fake:
        fake.add_account(app_key=APP_KEY, app_secret=APP_SECRET, cano=CANO, hts_id=HTS_ID)
        account = {
            "name": "main",
            "environment": "real",
            "account": f"{CANO}-01",
            "hts_id": HTS_ID,
            "rest_url": fake.rest_url,
            "ws_url": fake.ws_url,
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("JTS_")}
        env.update(
            JTS_DATA_DIR=str(tmp_path / "data"),
            JTS_LOG_LEVEL="DEBUG",
            JTS_KIS__ACCOUNTS=json.dumps([account]),
            JTS_KIS__SECRETS=json.dumps({"main": {"app_key": APP_KEY, "app_secret": APP_SECRET}}),
            COLUMNS="200",
            NO_COLOR="1",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLI_DRIVER,
            *("data", "backfill", "--source", "kis", "--symbol", "KRX:005930"),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        tokens = list(fake._tokens)
        approvals = list(fake._approvals)
    text = out.decode() + err.decode()
    assert process.returncode == 1, text
    assert "injected fault inside a KIS call" in text and "Traceback" in text
    assert tokens  # a token was issued, and its headers were sent
    assert_no_secret(text, [APP_KEY, APP_SECRET, *tokens, *approvals])
