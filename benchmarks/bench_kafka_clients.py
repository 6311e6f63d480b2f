"""Which Kafka client the bus should use: confluent-kafka or aiokafka, measured.

Against the local broker (scripts/kafka.sh), with real JTS events (a ``BarEvent``
encoded by ``jts.core.codec``, about 330 bytes) and the settings the bus needs
(idempotent producer, ``acks=all``; consumer group, offsets committed by us):

- produce: N events as an asyncio service sends them, all in flight together,
  every acknowledgement awaited (the bus's ``publish`` contract); 1 and 6 partitions;
- consume: the same N read back by a fresh consumer group (joining the group
  included, as when a service starts on a backlog), then committed;
- round trip: one event at a time, produced and awaited by a consumer in another
  task of the same loop (what one hop of the order path costs), p50 and p99.

confluent-kafka is driven the way ``jts.bus.kafka`` drives it (``produce`` plus a
poll thread handing delivery reports to the loop; ``consume`` batches on a worker
thread); aiokafka through its own asyncio API.

Run alone: ``.venv/bin/python benchmarks/bench_kafka_clients.py [--events 50000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka import AIOKafkaProducer
from confluent_kafka import Consumer
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from rich.console import Console

from jts.core.codec import encode_event
from jts.domain.events import BarEvent
from jts.domain.market import Bar
from jts.domain.market import Timeframe

ROOT = Path(__file__).resolve().parents[1]
EVENTS = 50_000
ROUND_TRIPS = 2_000
PARTITIONS = (1, 6)


def payload() -> bytes:
    price = Decimal("70100")
    bar = Bar(
        "KRX:005930",
        Timeframe.M1,
        1_793_000_000_000_000_000,
        price,
        price,
        price,
        price,
        Decimal(1234),
    )
    return encode_event(BarEvent.from_bar(bar, ts=bar.ts, source="bench"))


def bootstrap() -> str:
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "kafka.sh"), "start"], check=True, capture_output=True
    )
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "kafka.sh"), "bootstrap"],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def create_topic(servers: str, partitions: int) -> str:
    name = f"bench-clients-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": servers})
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[
        name
    ].result(30)
    return name


def keys(n: int) -> list[bytes]:
    return [f"KRX:{900000 + i % 50:06d}".encode() for i in range(n)]


# -- confluent-kafka, as jts.bus.kafka uses it ------------------------------------------------


class ConfluentSender:
    def __init__(self, servers: str) -> None:
        self.producer = Producer(
            {
                "bootstrap.servers": servers,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 1,
            }
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.loop = asyncio.get_running_loop()
        self.thread.start()

    def _poll(self) -> None:
        while not self.stop.is_set():
            self.producer.poll(0.05)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        future: asyncio.Future[None] = self.loop.create_future()

        def done(error: Any, _: Any) -> None:
            self.loop.call_soon_threadsafe(_settle, future, error)

        while True:
            try:
                self.producer.produce(topic, value=value, key=key, on_delivery=done)
                break
            except BufferError:
                await asyncio.sleep(0.005)
        await future

    def close(self) -> None:
        self.producer.flush(30)
        self.stop.set()
        self.thread.join()


def _settle(future: asyncio.Future[None], error: Any) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(RuntimeError(str(error)))


def confluent_consumer(servers: str, topic: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    return consumer


async def confluent_produce(servers: str, topic: str, n: int, value: bytes) -> float:
    sender = ConfluentSender(servers)
    await sender.send(topic, b"warm-up", value)
    started = time.perf_counter()
    await asyncio.gather(*(sender.send(topic, k, value) for k in keys(n)))
    elapsed = time.perf_counter() - started
    sender.close()
    return elapsed


async def confluent_consume(servers: str, topic: str, n: int) -> float:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    consumer = confluent_consumer(servers, topic)
    seen = 0
    while seen < n + 1:
        batch = await loop.run_in_executor(None, consumer.consume, 1000, 0.5)
        seen += sum(1 for m in batch if m.error() is None)
    await loop.run_in_executor(None, lambda: consumer.commit(asynchronous=False))
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed


async def confluent_round_trips(servers: str, topic: str, n: int, value: bytes) -> list[float]:
    loop = asyncio.get_running_loop()
    sender = ConfluentSender(servers)
    consumer = confluent_consumer(servers, topic)
    await sender.send(topic, b"k", value)
    while not await loop.run_in_executor(None, consumer.consume, 1, 1.0):
        pass
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        await sender.send(topic, b"k", value)
        while not [
            m
            for m in await loop.run_in_executor(None, consumer.consume, 1, 1.0)
            if m.error() is None
        ]:
            pass
        samples.append((time.perf_counter_ns() - started) / 1e6)
    sender.close()
    consumer.close()
    return samples


# -- aiokafka --------------------------------------------------------------------------------


async def aio_producer(servers: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, enable_idempotence=True, acks="all", linger_ms=1
    )
    await producer.start()
    return producer


async def aio_consumer(servers: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=f"bench-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    return consumer


async def aio_produce(servers: str, topic: str, n: int, value: bytes) -> float:
    producer = await aio_producer(servers)
    await (await producer.send(topic, value, key=b"warm-up"))
    started = time.perf_counter()
    futures = [await producer.send(topic, value, key=k) for k in keys(n)]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return elapsed


async def aio_consume(servers: str, topic: str, n: int) -> float:
    started = time.perf_counter()
    consumer = await aio_consumer(servers, topic)
    seen = 0
    while seen < n + 1:
        batches = await consumer.getmany(timeout_ms=500, max_records=1000)
        seen += sum(len(records) for records in batches.values())
    await consumer.commit()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return elapsed


async def aio_round_trips(servers: str, topic: str, n: int, value: bytes) -> list[float]:
    producer = await aio_producer(servers)
    consumer = await aio_consumer(servers, topic)
    await (await producer.send(topic, value, key=b"k"))
    await consumer.getone()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        await (await producer.send(topic, value, key=b"k"))
        await consumer.getone()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    await producer.stop()
    await consumer.stop()
    return samples


# -- the measurement -------------------------------------------------------------------------

Produce = Callable[[str, str, int, bytes], Awaitable[float]]
Consume = Callable[[str, str, int], Awaitable[float]]
Trips = Callable[[str, str, int, bytes], Awaitable[list[float]]]

CLIENTS: dict[str, tuple[Produce, Consume, Trips]] = {
    "confluent-kafka": (confluent_produce, confluent_consume, confluent_round_trips),
    "aiokafka": (aio_produce, aio_consume, aio_round_trips),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def measure_client(servers: str, name: str, events: int, trips: int) -> dict[str, Any]:
    produce, consume, round_trips = CLIENTS[name]
    value = payload()
    result: dict[str, Any] = {"client": name, "bytes": len(value)}
    for partitions in PARTITIONS:
        topic = create_topic(servers, partitions)
        produced = await produce(servers, topic, events, value)
        consumed = await consume(servers, topic, events)
        result[f"produce_{partitions}p"] = round(events / produced)
        result[f"consume_{partitions}p"] = round(events / consumed)
    samples = await round_trips(servers, create_topic(servers, 1), trips, value)
    result["rtt_p50_ms"] = round(percentile(samples, 0.50), 3)
    result["rtt_p99_ms"] = round(percentile(samples, 0.99), 3)
    return result


def measure(console: Console, events: int = EVENTS, trips: int = ROUND_TRIPS) -> dict[str, Any]:
    servers = bootstrap()
    results = []
    for name in CLIENTS:
        console.print(f"[bold]Kafka client[/] {name}: {events:,} events, {trips:,} round trips")
        results.append(asyncio.run(measure_client(servers, name, events, trips)))
    return {"events": events, "round_trips": trips, "clients": results}


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['events']:,} events of {result['clients'][0]['bytes']} bytes (a JTS `BarEvent`), "
        "idempotent producer, `acks=all`, every acknowledgement awaited; "
        f"round trip over {result['round_trips']:,} single events.",
        "",
        "| client | produce/s 1 partition | produce/s 6 | consume/s 1 | consume/s 6 "
        "| round trip p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in result["clients"]:
        lines.append(
            f"| {c['client']} | {c['produce_1p']:,} | {c['produce_6p']:,} | {c['consume_1p']:,} | "
            f"{c['consume_6p']:,} | {c['rtt_p50_ms']:.2f} | {c['rtt_p99_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--round-trips", type=int, default=ROUND_TRIPS)
    args = parser.parse_args()
    console = Console()
    console.print(render(measure(console, args.events, args.round_trips)))


if __name__ == "__main__":
    main()
