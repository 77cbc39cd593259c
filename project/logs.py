"""Log lines rendered by structlog: JSON in production, readable lines on a console.

Every line goes through one formatter, whoever logged it (Django, Celery, the engine,
structlog's own loggers), and carries the current cause: correlation id, causation,
request, event or run, and the Celery task (``events.tracing.add_trace_fields``).
``settings.LOGGING`` names :func:`formatter` by its dotted path, so the settings import
nothing; Django and the Celery worker both hand that dict to ``dictConfig``.
"""

import logging
from typing import Any

import structlog
from structlog.processors import CallsiteParameter, CallsiteParameterAdder

from events.tracing import add_trace_fields

FORMATS = ("json", "console")


def _shared() -> list[Any]:
    """What every line gets, before it is rendered."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        CallsiteParameterAdder([CallsiteParameter.PROCESS_NAME]),
        add_trace_fields,
    ]


def formatter(format: str = "json") -> structlog.stdlib.ProcessorFormatter:
    """The one formatter of ``LOGGING``; also points structlog's own loggers at it.

    Built when the logging configuration is applied, which is when structlog must be
    configured too: in Django's set-up and in the Celery worker's.
    """
    if format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, got {format!r}")
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: list[Any] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if format == "json"
        else [structlog.dev.ConsoleRenderer()]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared(), structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        logger=logging.getLogger(),
    )
