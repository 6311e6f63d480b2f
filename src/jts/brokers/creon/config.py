"""Creon settings: where the bridge is, its shared secret, the account and the timeouts.

This is the ``[creon]`` table of the platform's settings (``JTS_CREON__*``), kept
with the venue so the adapter can be built without the application layer.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import SecretStr

from jts.domain.errors import ConfigurationError

# The bridge pages a long look-up across Creon's 15-second budget windows and gives up
# only after 60 s of waiting (BRIDGE-API.md); a shorter read timeout would cut it off.
MIN_LOOKUP_TIMEOUT = 75.0


class CreonConfig(BaseModel):
    """The Creon bridge (``jts-creon-bridge`` on the Windows PC) this platform talks to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bridge_url: str = "http://127.0.0.1:8790"
    # The bridge's shared secret: JTS_CREON__SECRET, or a file holding only the secret.
    secret: SecretStr | None = None
    secret_file: Path | None = None
    account: str = Field("", description="Creon account number; empty: the bridge's first")
    # Orders, cancels and modifies: Creon answers these at once or not at all.
    request_timeout: float = Field(10.0, gt=0)
    # Read timeout of GET look-ups (charts, today's orders), which may span budget windows.
    lookup_timeout: float = Field(MIN_LOOKUP_TIMEOUT, ge=MIN_LOOKUP_TIMEOUT)
    # How long one long poll of the bridge's event journal waits for news.
    poll_wait: float = Field(10.0, gt=0, le=30)

    def shared_secret(self) -> str:
        if self.secret is not None and self.secret.get_secret_value().strip():
            return self.secret.get_secret_value().strip()
        if self.secret_file is not None:
            try:
                text = self.secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"creon.secret_file {self.secret_file}: {exc.strerror}"
                ) from None
            if text:
                return text
        raise ConfigurationError(
            "creon: no bridge secret; set JTS_CREON__SECRET or creon.secret_file "
            "(the same secret jts-creon-bridge was started with)"
        )
