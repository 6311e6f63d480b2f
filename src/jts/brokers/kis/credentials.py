"""Where a KIS account's app key and secret come from, and the error when they are missing.

Environment first (``JTS_KIS__SECRETS__<NAME>__APP_KEY``), then the secrets file.
Values stay ``SecretStr`` until the moment a request header is built, so a log
line, a traceback or ``repr`` never shows them.
"""

from __future__ import annotations

import logging
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from jts.brokers.kis.config import KisAccountConfig
from jts.brokers.kis.config import KisSettings
from jts.domain.errors import ConfigurationError

log = logging.getLogger("jts.brokers.kis")


@dataclass(frozen=True, slots=True)
class KisCredentials:
    app_key: SecretStr
    app_secret: SecretStr

    def __repr__(self) -> str:
        return "KisCredentials(app_key=**********, app_secret=**********)"


def _from_file(path: Path, name: str) -> dict[str, str]:
    if not path.is_file():
        raise ConfigurationError(f"kis.secrets_file: {path} does not exist")
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("KIS secrets file %s is readable by other users; chmod 600 it", path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        # The parser's message can quote the offending line, secret included: not repeated.
        raise ConfigurationError(f"kis.secrets_file: {path} is not valid TOML") from None
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"kis.secrets_file: [{name}] in {path} must be a table")
    return {k: v for k, v in table.items() if isinstance(v, str)}


def load_credentials(settings: KisSettings, account: KisAccountConfig) -> KisCredentials:
    # Environment variable names cannot hold "-": JTS_KIS__SECRETS__KIS_1__ is account kis-1.
    env = settings.secrets.get(account.name) or settings.secrets.get(account.name.replace("-", "_"))
    key = env.app_key if env else None
    secret = env.app_secret if env else None
    if (key is None or secret is None) and settings.secrets_file is not None:
        table = _from_file(settings.secrets_file, account.name)
        key = key or (SecretStr(table["app_key"]) if "app_key" in table else None)
        secret = secret or (SecretStr(table["app_secret"]) if "app_secret" in table else None)
    missing = [
        field
        for field, value in (("app_key", key), ("app_secret", secret))
        if value is None or not value.get_secret_value().strip()
    ]
    if missing or key is None or secret is None:
        upper = account.name.upper().replace("-", "_")
        where = " and ".join(f"JTS_KIS__SECRETS__{upper}__{f.upper()}" for f in missing)
        if settings.secrets_file is not None:
            where += f", or put them under [{account.name}] in {settings.secrets_file}"
        raise ConfigurationError(
            f"KIS account {account.name!r}: no {' and no '.join(missing)}; set {where}"
        )
    return KisCredentials(key, secret)
