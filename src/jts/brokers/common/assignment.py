"""Which account covers which symbol: a pure function of config and health.

Pinned symbols stay with their account while it is healthy; every other symbol
of the universe goes to the healthy account with the most room left. An
unhealthy account's symbols are spread over the others within their capacity,
and because the result depends only on (universe, accounts, health), they go
back to it as soon as it is healthy again. Within an account, the first
``streaming`` symbols (pinned first) are streamed, the rest polled.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    capacity: int
    streaming: int
    pinned: tuple[str, ...] = ()
    focus: str = ""


@dataclass(frozen=True, slots=True)
class Assignment:
    symbols: dict[str, list[str]] = field(default_factory=dict)
    unassigned: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)  # symbol -> account it moved to
    streaming: dict[str, list[str]] = field(default_factory=dict)

    def account_of(self, symbol: str) -> str | None:
        for name, symbols in self.symbols.items():
            if symbol in symbols:
                return name
        return None

    def polled(self, name: str) -> list[str]:
        streamed = set(self.streaming.get(name, []))
        return [s for s in self.symbols.get(name, []) if s not in streamed]


def assign(universe: Iterable[str], slots: list[Slot], healthy: Mapping[str, bool]) -> Assignment:
    live = [s for s in slots if healthy.get(s.name, True)]
    result: dict[str, list[str]] = {s.name: [] for s in live}
    owner: dict[str, str] = {}
    moved: dict[str, str] = {}
    for slot in live:
        for symbol in slot.pinned[: slot.capacity]:
            result[slot.name].append(symbol)
            owner[symbol] = slot.name
    orphans = [sym for s in slots if s.name not in result for sym in s.pinned]
    rest = [sym for sym in dict.fromkeys(universe) if sym not in owner and sym not in orphans]
    capacity = {s.name: s.capacity for s in live}
    unassigned: list[str] = []
    for symbol in orphans + rest:
        if symbol in owner:
            continue
        room = [(capacity[name] - len(result[name]), name) for name in result]
        room = [r for r in room if r[0] > 0]
        if not room:
            unassigned.append(symbol)
            continue
        # Most room first; the name breaks ties so the result is deterministic.
        _, name = max(room, key=lambda r: (r[0], _reverse(r[1])))
        result[name].append(symbol)
        owner[symbol] = name
        if symbol in orphans:
            moved[symbol] = name
    streaming = {s.name: result[s.name][: s.streaming] for s in live}
    return Assignment(result, unassigned, moved, streaming)


def _reverse(name: str) -> tuple[int, ...]:
    """Sorts names descending so ``max`` picks the alphabetically first on a tie."""
    return tuple(-ord(c) for c in name)
