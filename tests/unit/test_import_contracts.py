"""The import contracts catch what they are for: each planted violation breaks one.

The contracts in pyproject.toml are checked against the real import graph of
``src/jts`` with one import (or one package) planted at a time, the way a
regression would arrive. A rule that stops catching its violation fails here,
rather than silently passing ``lint-imports`` for ever.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import configuration
from importlinter.application.use_cases import read_user_options
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

CONTRACT_TYPES: dict[str, Any] = {
    "forbidden": ForbiddenContract,
    "layers": LayersContract,
    "independence": IndependenceContract,
    "protected": ProtectedContract,
    "acyclic_siblings": AcyclicSiblingsContract,
}


# What ``lint-imports`` does first: the config readers and the timer contracts use.
configuration.configure()


@cache
def _base_graph() -> grimp.ImportGraph:
    return grimp.build_graph("jts", include_external_packages=True, cache_dir=None)


def _broken_contracts(graph: grimp.ImportGraph) -> set[str]:
    options = read_user_options(str(PYPROJECT))
    broken = set()
    for contract_options in options.contracts_options:
        contract = CONTRACT_TYPES[contract_options["type"]](
            name=contract_options["name"],
            session_options=options.session_options,
            contract_options=contract_options,
        )
        if not contract.check(copy.deepcopy(graph), verbose=False).kept:
            broken.add(contract_options["id"])
    return broken


def _planted(importer: str, imported: str) -> grimp.ImportGraph:
    graph = copy.deepcopy(_base_graph())
    assert importer in graph.modules, f"{importer} is gone: plant the import somewhere else"
    graph.add_import(
        importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}"
    )
    return graph


def test_the_tree_as_it_is_keeps_every_contract() -> None:
    # Otherwise every planted violation below would "fail" for the wrong reason.
    assert _broken_contracts(_base_graph()) == set()


@pytest.mark.parametrize(
    ("importer", "imported", "caught_by"),
    [
        # The three the review found passing.
        ("jts.services.kernel", "confluent_kafka", {"business-is-hexagonal", "kafka-only-in-bus"}),
        ("jts.domain.orders", "websockets", {"shared-is-pure"}),
        ("jts.brokers.kis.config", "win32com", {"com-only-in-creon-bridge"}),
        # Business code: libraries and adapters.
        ("jts.strategy.base", "httpx", {"business-is-hexagonal"}),
        ("jts.services.execution.outbox", "psycopg", {"business-is-hexagonal"}),
        ("jts.services.execution.service", "jts.storage.sql", {"business-is-hexagonal"}),
        ("jts.services.portfolio.service", "pathlib", {"business-is-hexagonal"}),
        ("jts.backtest.metrics", "pyarrow", {"business-is-hexagonal"}),
        ("jts.backtest.replay", "jts.brokers.paper.factory", {"business-is-hexagonal"}),
        ("jts.services.kernel", "jts.backtest.replay", {"jts-layers"}),
        ("jts.backtest.replay", "jts.app.platform", {"jts-layers"}),
        # Shared code: no I/O, no framework.
        ("jts.sim.matching", "pandas", {"shared-is-pure"}),
        ("jts.core.clocks", "sqlalchemy", {"shared-is-pure", "sql-only-in-storage-sql"}),
        ("jts.ports.clock", "fastapi", {"shared-is-pure"}),
        ("jts.domain.orders", "os", {"shared-is-pure"}),
        ("jts.domain.orders", "jts.ports.clock", {"jts-layers"}),
        # Each library in its one adapter.
        ("jts.app.platform", "pythoncom", {"com-only-in-creon-bridge"}),
        ("jts.cli.main", "aiokafka", {"kafka-only-in-bus"}),
        ("jts.app.doctor", "chdb", {"clickhouse-only-in-storage-clickhouse"}),
        ("jts.bus.inprocess", "clickhouse_connect", {"bus-no-foreign-libs"}),
        ("jts.storage.files", "httpx", {"storage-no-foreign-libs"}),
        ("jts.storage.memory.orders", "jts.storage.sql.mapping", {"memory-store-does-no-io"}),
        ("jts.storage.values", "pathlib", {"memory-store-does-no-io"}),
        # Venues: their own libraries, never each other.
        ("jts.brokers.paper.execution", "confluent_kafka", {"brokers-no-infra-libs"}),
        ("jts.brokers.kis.config", "fastapi", {"kis-own-libraries"}),
        ("jts.brokers.kis.execution", "httpx", {"kis-wire-in-its-modules"}),
        ("jts.brokers.kis.data", "websockets", {"kis-wire-in-its-modules"}),
        ("jts.brokers.creon.errors", "websockets", {"creon-own-libraries"}),
        ("jts.brokers.paper.execution", "websockets", {"paper-own-libraries"}),
        ("jts.brokers.common.ratelimit", "jts.brokers.kis.config", {"venue-machinery-neutral"}),
        ("jts.brokers.kis.config", "jts.brokers.paper.config", {"venues-independent"}),
        # Services are built by the kernel alone: a process may not construct one itself.
        ("jts.app.processes", "jts.services.execution.service", {"kernel-builds-services"}),
        ("jts.cli.main", "jts.services.portfolio", {"kernel-builds-services"}),
        # A circle inside the composition root (live_feed and processes had one).
        ("jts.app.service_process", "jts.app.processes", {"no-import-cycles"}),
    ],
)
def test_a_planted_import_breaks_its_contract(
    importer: str, imported: str, caught_by: set[str]
) -> None:
    broken = _broken_contracts(_planted(importer, imported))
    assert caught_by <= broken, f"{importer} -> {imported} broke only {sorted(broken)}"


def test_an_unclassified_top_level_package_breaks_the_layers() -> None:
    graph = copy.deepcopy(_base_graph())
    graph.add_module("jts.gateway")
    graph.add_import(importer="jts.gateway", imported="jts.domain.orders")
    assert "jts-layers" in _broken_contracts(graph)


def test_a_planned_package_may_appear_in_its_layer() -> None:
    graph = copy.deepcopy(_base_graph())
    graph.add_module("jts.notifiers")
    graph.add_import(importer="jts.notifiers", imported="jts.domain.events")
    assert _broken_contracts(graph) == set()
