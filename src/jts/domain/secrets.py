"""How strong a shared secret must be: the one rule for service tokens and the Creon bridge.

A shared secret guards endpoints that trade, so a guessable one is as good as
none. The rule refuses what people type when asked for a password (short,
repetitive, a known default) and accepts what a generator produces
(``secrets.token_urlsafe(32)``). Pure: callers name the setting, this never
sees where the secret came from and the reason never contains it.
"""

from __future__ import annotations

import math
from collections import Counter

MIN_LENGTH = 24
MIN_DISTINCT = 10
# Shannon entropy of the characters times the length: 24 random hex digits give ~86.
MIN_ENTROPY_BITS = 80.0
# Defaults this platform (or common examples) once shipped; refused anywhere inside a secret.
KNOWN_DEFAULTS = (
    "jts-paper-venue",
    "contract-token",
    "cluster-test-token",
    "changeme",
    "change-me",
    "password",
    "secret",
    "letmein",
    "123456",
    "qwerty",
)

HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def weak_secret_reason(secret: str) -> str | None:
    """Why ``secret`` is too weak for a shared secret, or None when it is strong enough."""
    if len(secret) < MIN_LENGTH:
        return f"{len(secret)} characters; at least {MIN_LENGTH} are needed"
    lowered = secret.lower()
    for known in KNOWN_DEFAULTS:
        if known in lowered:
            return "it contains a well-known default or example secret"
    if _is_repetition(secret):
        return "it repeats a shorter pattern"
    if len(set(secret)) < MIN_DISTINCT:
        return f"it uses only {len(set(secret))} distinct characters"
    if entropy_bits(secret) < MIN_ENTROPY_BITS:
        return f"too little entropy (about {entropy_bits(secret):.0f} bits)"
    return None


def entropy_bits(secret: str) -> float:
    """Shannon entropy of the character distribution, times the length (an upper estimate)."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    total = len(secret)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    return per_char * total


def _is_repetition(secret: str) -> bool:
    return secret in (secret + secret)[1:-1]
