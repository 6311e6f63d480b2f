"""The service token of ``jts serve``: set, or generated once into the data folder.

No process ships a default secret. ``serve.token`` (``JTS_SERVE__TOKEN``) wins;
without it the first process on a host writes a random token to
``<data_dir>/serve-token`` (mode 600) and every other process with the same data
folder reads it, so the paper venue and order execution on one machine agree
with nothing to configure. Across machines the token must be set on both sides:
a client whose venue is elsewhere and has no token stops and says so, and a
service asked to listen beyond loopback without an explicit token refuses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

from jts.app.settings import Settings
from jts.domain.errors import ConfigurationError
from jts.domain.secrets import HOW_TO_MAKE_ONE
from jts.domain.secrets import weak_secret_reason

log = logging.getLogger("jts.serve")

TOKEN_FILE = "serve-token"
_SET_IT = "set JTS_SERVE__TOKEN (or serve.token in jts.toml)"


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (``localhost``, 127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def explicit_token(settings: Settings) -> str | None:
    token = settings.serve.token
    return None if token is None else token.get_secret_value()


def service_token(settings: Settings) -> str:
    """The token a ``jts serve`` process on this host serves and uses; created if missing."""
    return explicit_token(settings) or _read_or_create(token_path(settings))


def venue_client_token(settings: Settings) -> str:
    """The token order execution presents to the paper venue at ``serve.venue_url()``."""
    token = explicit_token(settings)
    if token is not None:
        return token
    url = settings.serve.venue_url()
    host = urlsplit(url).hostname or ""
    if not is_loopback(host):
        raise ConfigurationError(
            f"the paper venue at {url} is on another host, so this process cannot read its "
            f"generated token; {_SET_IT} to the token the venue uses (its data folder's "
            f"{TOKEN_FILE}, or its own JTS_SERVE__TOKEN)"
        )
    return _read_or_create(token_path(settings))


def check_listen_address(settings: Settings, service: str) -> None:
    """Refuse to serve beyond loopback without an explicit token; warn that it is plain HTTP.

    Every ``jts serve`` process answers ``/status`` (an account's cash and positions,
    or counters) and the paper venue trades, so none may listen on the network with a
    token only this host's data folder knows. ``/health`` stays open by design.
    """
    host = settings.serve.host
    if is_loopback(host):
        return
    if explicit_token(settings) is None:
        raise ConfigurationError(
            f"serve.host {host} would expose {service} beyond this machine; {_SET_IT} "
            f"explicitly (make one with {HOW_TO_MAKE_ONE}), or listen on 127.0.0.1"
        )
    log.warning(
        "%s listens on %s over plain HTTP (no TLS): the bearer token and account data cross "
        "the network readable by anyone on the path; keep it on a private network or put a "
        "TLS proxy in front",
        service,
        host,
    )


def _read_or_create(path: Path) -> str:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        # A hard link never replaces: whichever process links first wins, the others read it.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            log.warning("generated a service token in %s (mode 600)", path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); run chmod 600 {path}"
        )
    token = path.read_text(encoding="utf-8").strip()
    reason = weak_secret_reason(token)
    if reason is not None:
        raise ConfigurationError(
            f"the token in {path} is too weak ({reason}); delete the file to have a new one "
            f"generated, or {_SET_IT}"
        )
    return token
