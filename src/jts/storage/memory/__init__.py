"""The storage ports held in memory, by the rules of the SQL store: for backtests and tests.

Nothing survives the process. Everything a database refuses is refused here too,
every multi-row write is all or nothing, and no stored object is shared with a
caller, so code that runs on ``MemoryStore`` behaves the same on ``SqlStore``.
"""

from jts.storage.memory.store import MemoryStore

__all__ = ["MemoryStore"]
