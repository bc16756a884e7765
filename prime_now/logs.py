"""Structured logs: structlog (with django-structlog) for our lines and every library's.

One JSON object per line in production (`LOG_FORMAT=json`, the default), aligned key=value
text in development (`LOG_FORMAT=console`, which `make run` sets). Every line carries what
is bound where it runs: the request id (django-structlog binds it per request and sends it
with each Celery task the request enqueues, events' deliveries included), the user, the
order number and hub where the code knows them, and the build's version. Secrets never reach
the output: `redact` masks them whatever logger wrote the line.
"""

import functools
import re
from typing import Any

import structlog
from django.conf import settings
from structlog.typing import EventDict, Processor, WrappedLogger

# Keys whose values are never written (matched as substrings of the key, case-insensitive).
SECRET_KEYS = (
    "password", "passwd", "secret", "token", "authorization", "cookie", "api_key", "apikey",
    "card", "cvc", "cvv", "sessionid",
)  # fmt: skip
REDACTED = "[redacted]"
# A card number: 13 to 19 digits, maybe grouped by spaces or dashes.
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
# Credentials in a header-like text: "Token abc", "Bearer abc", "Api-Key abc".
_CREDENTIAL = re.compile(r"\b(Token|Bearer|Api-Key|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I)
# A secret-named field inside text: password=..., "payment_token": "..."
_FIELD = re.compile(
    r"""(?P<key>["']?[\w-]*(?:password|secret|token|card_number|api_key)[\w-]*["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^\s,&;}]+)""",
    re.I,
)


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"[card ...{digits[-4:]}]" if _luhn(digits) else match.group()


# Whatever any of the three could match holds one of these: most text is let through after
# this one search (it halves a log line's cost).
_SUSPECT = re.compile(r"\d[ -]?\d[ -]?\d[ -]?\d|token|bearer|basic|api-key|password|secret", re.I)


def scrub(text: str) -> str:
    """The text with card numbers, credentials and secret-named fields masked."""
    if not _SUSPECT.search(text):
        return text
    text = _CARD.sub(_mask_card, text)
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _FIELD.sub(lambda m: f"{m.group('key')}{REDACTED}", text)


# Values the logging itself makes (ids, the time, the level): never secrets, never scanned.
OWN_KEYS = frozenset(
    ("request_id", "correlation_id", "task_id", "parent_task_id", "child_task_id", "event_id",
     "timestamp", "level", "logger")
)  # fmt: skip


@functools.cache
def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in OWN_KEYS and any(word in lowered for word in SECRET_KEYS)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret_key(str(k)) else _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(item) for item in value)
    return value


def redact(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: secret-named keys and secrets inside text are masked."""
    for key, value in list(event_dict.items()):
        if key not in OWN_KEYS:
            event_dict[key] = REDACTED if _is_secret_key(key) else _clean(value)
    return event_dict


def add_version(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the build that wrote the line (settings.BUILD_VERSION)."""
    if settings.configured:  # not while the settings themselves load
        event_dict.setdefault("version", settings.BUILD_VERSION)
    return event_dict


# Applied to every line: structlog's own, and the standard library's (Django, Celery, ours).
SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_version,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderer(log_format: str) -> Processor:
    if log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting: one stream handler whose formatter renders through structlog."""
    tail: list[Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        redact,
        _renderer(log_format),
    ]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [*SHARED, structlog.stdlib.ExtraAdder()],
                "processors": tail,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }


def configure_structlog() -> None:
    """structlog's loggers hand their events to the standard library's handlers."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
