"""``jts-creon-bridge``: serve Creon over HTTP on the Windows PC where Creon Plus runs.

argparse, not typer: the bridge installs on a bare 32-bit Python with only
pydantic, fastapi and uvicorn. It refuses to start without a shared secret
(``--secret-file`` or ``JTS_CREON_BRIDGE_SECRET``) or with a weak one, warns
loudly when it listens beyond loopback (plain HTTP), and off Windows it runs
only over the fake COM objects (``--fake``).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jts.domain.secrets import HOW_TO_MAKE_ONE
from jts.domain.secrets import weak_secret_reason

SECRET_ENV = "JTS_CREON_BRIDGE_SECRET"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jts-creon-bridge", description="REST bridge to the Creon Plus COM API"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument(
        "--secret-file", type=Path, help=f"file holding the secret (or ${SECRET_ENV})"
    )
    parser.add_argument("--account", help="Creon account number (default: the first signed on)")
    parser.add_argument(
        "--state-file", type=Path, help="keep order times and fills across restarts"
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=3.0,
        help="longest wait for Creon's request counter before answering 429 (seconds)",
    )
    parser.add_argument(
        "--page-wait",
        type=float,
        default=60.0,
        help="longest a look-up of many pages waits for Creon's counter in all (seconds)",
    )
    parser.add_argument("--fake", action="store_true", help="serve a fake Creon (tests, demos)")
    parser.add_argument("--log-level", default="info")
    return parser


def read_secret(secret_file: Path | None, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if secret_file is not None:
        secret = secret_file.read_text(encoding="utf-8").strip()
    else:
        secret = env.get(SECRET_ENV, "").strip()
    if not secret:
        raise SystemExit(
            f"jts-creon-bridge: no secret; pass --secret-file or set {SECRET_ENV}; not starting"
        )
    reason = weak_secret_reason(secret)
    if reason is not None:
        raise SystemExit(
            f"jts-creon-bridge: the secret is too weak ({reason}); make one with "
            f"{HOW_TO_MAKE_ONE} and give the same to the platform (JTS_CREON__SECRET); "
            "not starting"
        )
    return secret


def warn_if_exposed(host: str) -> bool:
    """Log loudly when the bridge listens beyond loopback: it speaks plain HTTP."""
    name = host.strip().strip("[]").lower()
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        logging.getLogger("jts.brokers.creon.bridge").warning(
            "listening on %s over plain HTTP (no TLS): the secret, orders and the balance "
            "cross the network readable by anyone on the path; allow only the platform's "
            "address in the Windows firewall, or use a VPN or an SSH tunnel",
            host,
        )
    return not loopback


def _factory(fake: bool) -> tuple[Any, Any]:
    """The COM factory, and the fake market when faking."""
    if fake:
        from jts.brokers.creon.bridge.fake_com import FakeCreonMarket

        market = FakeCreonMarket()
        return market.factory(), market
    if sys.platform != "win32":
        raise SystemExit(
            "jts-creon-bridge: Creon's COM objects exist only on Windows; use --fake elsewhere"
        )
    if struct.calcsize("P") != 4:
        raise SystemExit("jts-creon-bridge: Creon's COM servers are 32-bit; run a 32-bit Python")
    import ctypes

    if not ctypes.windll.shell32.IsUserAnAdmin():  # type: ignore[attr-defined,unused-ignore]
        logging.getLogger("jts.brokers.creon.bridge").warning(
            "not running as administrator; Creon Plus usually refuses COM calls then"
        )
    from jts.brokers.creon.bridge.com import Win32ComFactory

    return Win32ComFactory(), None


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    secret = read_secret(args.secret_file)
    warn_if_exposed(args.host)
    factory, market = _factory(args.fake)

    import uvicorn

    from jts.brokers.creon.bridge.app import build_bridge_app

    app: Any = build_bridge_app(
        factory,
        secret,
        account=args.account,
        state_path=args.state_file,
        max_wait=args.max_wait,
        page_wait=args.page_wait,
    )
    if market is not None:
        from jts.brokers.creon.bridge.fake_com import drop_order_responses

        app = drop_order_responses(app, market)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
