"""What one bar event costs: build, read, encode and decode, three ways (issue 11).

The candidates carry the same envelope and the same bar:

- **pydantic**: the former ``BarEvent`` (a frozen ``BaseModel`` copying the bar's fields,
  ``uuid4`` id by default), rebuilt here so the comparison outlives it;
- **msgspec**: a ``msgspec.Struct`` (``frozen=True, kw_only=True, gc=False``) embedding
  the ``Bar`` dataclass, encoded and decoded by msgspec;
- **dataclass**: a frozen slotted dataclass embedding the ``Bar``, encoded and decoded
  by msgspec too (it has no codec of its own).

``jts`` is the project's ``BarEvent`` and codec as they are now. Figures are
microseconds per operation, best of ``--repeat`` runs of ``--number`` calls.

    .venv/bin/python benchmarks/bench_events.py [--number N] [--repeat K]
"""

from __future__ import annotations

import argparse
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import msgspec
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from jts.core.codec import decode_event
from jts.core.codec import encode_event
from jts.domain.events import BarEvent
from jts.domain.events import bar_event_id
from jts.domain.market import Bar
from jts.domain.market import Timeframe

BAR = Bar(
    "KRX:005930",
    Timeframe.M1,
    1_767_225_600_000_000_000,
    Decimal("71200"),
    Decimal("71400"),
    Decimal("71100"),
    Decimal("71300"),
    Decimal("18250"),
)
TS = BAR.close_ts


class PydanticBarEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str] = "market.bar"

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    type: str = "market.bar"
    version: int = 1
    ts: int
    source: str
    key: str
    instrument_id: str
    timeframe: Timeframe
    bar_ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @classmethod
    def from_bar(cls, bar: Bar, *, ts: int, source: str) -> PydanticBarEvent:
        return cls(
            event_id=bar_event_id(bar),
            ts=ts,
            source=source,
            key=bar.instrument_id,
            instrument_id=bar.instrument_id,
            timeframe=bar.timeframe,
            bar_ts=bar.ts,
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
        )

    def to_bar(self) -> Bar:
        return Bar(
            self.instrument_id,
            self.timeframe,
            self.bar_ts,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
        )


class StructBarEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="market.bar"):
    event_id: str
    version: int = 2
    ts: int
    source: str
    key: str
    bar: Bar


@dataclass(frozen=True, slots=True, kw_only=True)
class DataclassBarEvent:
    event_id: str
    version: int = 2
    ts: int
    source: str
    key: str
    bar: Bar


def _struct(bar: Bar) -> StructBarEvent:
    return StructBarEvent(
        event_id=bar_event_id(bar), ts=TS, source="bench", key=bar.instrument_id, bar=bar
    )


def _dataclass(bar: Bar) -> DataclassBarEvent:
    return DataclassBarEvent(
        event_id=bar_event_id(bar), ts=TS, source="bench", key=bar.instrument_id, bar=bar
    )


def _cases() -> dict[str, dict[str, Callable[[], object]]]:
    pyd = PydanticBarEvent.from_bar(BAR, ts=TS, source="bench")
    pyd_bytes = pyd.model_dump_json().encode()
    struct = _struct(BAR)
    struct_encoder = msgspec.json.Encoder(decimal_format="string")
    struct_bytes = struct_encoder.encode(struct)
    struct_decoder = msgspec.json.Decoder(StructBarEvent)
    data = _dataclass(BAR)
    data_bytes = struct_encoder.encode(data)
    data_decoder = msgspec.json.Decoder(DataclassBarEvent)
    jts = BarEvent.from_bar(BAR, ts=TS, source="bench")
    jts_bytes = encode_event(jts)
    return {
        "pydantic": {
            "build": lambda: PydanticBarEvent.from_bar(BAR, ts=TS, source="bench"),
            "read": lambda: pyd.to_bar().close,
            "encode": lambda: pyd.model_dump_json().encode(),
            "decode": lambda: PydanticBarEvent.model_validate_json(pyd_bytes),
        },
        "msgspec": {
            "build": lambda: _struct(BAR),
            "read": lambda: struct.bar.close,
            "encode": lambda: struct_encoder.encode(struct),
            "decode": lambda: struct_decoder.decode(struct_bytes),
        },
        "dataclass": {
            "build": lambda: _dataclass(BAR),
            "read": lambda: data.bar.close,
            "encode": lambda: struct_encoder.encode(data),
            "decode": lambda: data_decoder.decode(data_bytes),
        },
        "jts": {
            "build": lambda: BarEvent.from_bar(BAR, ts=TS, source="bench"),
            "read": lambda: jts.bar.close,
            "encode": lambda: encode_event(jts),
            "decode": lambda: decode_event(jts_bytes),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases = _cases()
    operations = ("build", "read", "encode", "decode")
    print("| variant | " + " | ".join(f"{op} us" for op in operations) + " |")
    print("|---|" + "---:|" * len(operations))
    for name, ops in cases.items():
        cells = []
        for op in operations:
            best = min(timeit.repeat(ops[op], number=args.number, repeat=args.repeat))
            cells.append(f"{best / args.number * 1e6:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
