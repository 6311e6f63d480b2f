"""Structured logging for every entry point: structlog rendering for stdlib loggers.

Tracebacks never show local variables: in a KIS call the request headers (app key,
secret, token) and in a database call the SQL parameters are locals of the frames.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.dev import RichTracebackFormatter
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer


def _console_renderer(colors: bool) -> structlog.dev.ConsoleRenderer:
    # structlog's default exception formatter is Rich's with show_locals=True.
    tracebacks = RichTracebackFormatter(
        color_system="truecolor" if colors else None, show_locals=False
    )
    return structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=tracebacks)


def configure_logging(level: str = "WARNING", *, json: bool = False) -> None:
    """Route stdlib and structlog records through one renderer (console or JSON lines)."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[structlog.types.Processor] = (
        # A structured traceback (frames, exception chain) in the record, without locals.
        [
            ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ]
        if json
        else [_console_renderer(sys.stderr.isatty())]
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per HTTP request (the venue's report poll, health probes) drowns the rest;
    # aiosqlite logs every statement with its parameters at DEBUG.
    for chatty in ("httpx", "uvicorn.access", "aiosqlite"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
