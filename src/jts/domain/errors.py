"""One exception tree for the whole platform.

::

    JtsError
    ├── ConfigurationError          bad or missing setting, caught at start
    ├── DomainError                 a rule of the trading model was broken
    │   ├── InvalidOrder            order fields that can never be valid
    │   ├── InvalidStateTransition  order state machine refused a move
    │   └── InsufficientFunds
    ├── BrokerError                 anything a venue adapter raises
    │   ├── BrokerUnavailable       transient: timeouts, 5xx, dropped links
    │   │   ├── RequestNotSent      had no effect at the venue: safe to retry anything
    │   │   │   ├── RateLimited     refused for pace: retry after the venue's back-off
    │   │   │   └── CircuitOpen     not asked at all: the venue is failing, probed later
    │   │   └── OutcomeUnknown      may have acted (dropped after sending): reconcile
    │   ├── AuthenticationFailed
    │   ├── OrderRejectedByVenue    carries the venue's reason
    │   └── UnknownOrder
    ├── StorageError
    │   ├── StorageUnavailable      an outage (locked, unreachable, timed out): worth retrying
    │   └── DuplicateOrder          an order with this client order id is stored already
    ├── BusError                    the message bus could not take or deliver an event
    ├── DataError                   malformed market data (quarantined, not stored)
    └── StrategyError               user strategy code failed

Business outcomes (a risk denial, a venue rejection) travel as events; these
exceptions are for code paths that cannot go on.
"""

from __future__ import annotations


class JtsError(Exception):
    """Base of every error JTS raises on purpose."""


class ConfigurationError(JtsError):
    """A setting is missing, malformed or inconsistent."""


class DomainError(JtsError):
    """A rule of the trading model was broken."""


class InvalidOrder(DomainError):
    """Order fields that no venue would accept (zero quantity, limit without price...)."""


class InvalidStateTransition(DomainError):
    """The order state machine does not allow this move."""

    def __init__(self, order_id: str, current: str, target: str) -> None:
        super().__init__(f"order {order_id}: illegal transition {current} -> {target}")
        self.order_id = order_id
        self.current = current
        self.target = target


class InsufficientFunds(DomainError):
    """Cash or position does not cover the order."""


class BrokerError(JtsError):
    """Raised by broker adapters after translating the venue's own error."""


class BrokerUnavailable(BrokerError):
    """The venue could not be reached or answered with a transient failure; retryable."""


class RequestNotSent(BrokerUnavailable):
    """The request provably had no effect (connection refused, refused before acting)."""


class RateLimited(RequestNotSent):
    """The venue refused the call for exceeding its rate limit; retry after a pause."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CircuitOpen(RequestNotSent):
    """The venue was not called because it has been failing; it is probed again later."""


class OutcomeUnknown(BrokerUnavailable):
    """The request may have reached the venue and acted; only reconciliation can tell."""


class AuthenticationFailed(BrokerError):
    """Credentials are missing, wrong or expired."""


class OrderRejectedByVenue(BrokerError):
    """The venue refused the order; ``reason`` is its own explanation."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason if code is None else f"[{code}] {reason}")
        self.reason = reason
        self.code = code


class UnknownOrder(BrokerError):
    """The venue does not know the order asked about."""


class StorageError(JtsError):
    """A store could not read or write."""


class StorageUnavailable(StorageError):
    """The store is locked, unreachable or timed out: the same call may succeed later."""


class DuplicateOrder(StorageError):
    """An order with the same client order id exists: the signal behind it was seen before."""


class BusError(JtsError):
    """The message bus could not take or deliver an event (broker down past its timeout)."""


class DataError(JtsError):
    """Market data that fails validation; callers quarantine it rather than store it."""


class StrategyError(JtsError):
    """User strategy code raised; the strategy is faulted, the node goes on."""
