"""JSON logs with trace and ticket ids; phone numbers and personal names never leave masked."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from collections.abc import Callable

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor

# Mainland mobiles (11 digits from 1[3-9]), also written +86 138 1234 5678, 0086-138-1234-5678
# or 138-1234-5678; landlines with area code (010-12345678, +86 10 1234 5678); 95598 is kept.
_SEP = r"[ \-.]?"
PHONE = re.compile(
    r"(?<![\d+])(?P<cc>(?:\+|00)?86" + _SEP + r")?"
    r"(?:(?P<m1>1[3-9]\d)" + _SEP + r"\d{4}" + _SEP + r"(?P<m2>\d{4})"
    r"|(?P<a>0?\d{2,3})" + _SEP + r"\d{3,4}" + _SEP + r"(?P<l>\d{4}))(?!\d)"
)
PERSONAL_KEYS = {
    "phone",
    "caller_name",
    "customer_name",
    "name",
    "contact",
    "reporter_name",
    "reporter_phone",
    "address",
    "caller_number",
    "password",
    "secret",
    "token",
    "authorization",
    "api_key",
}


# Identifiers the system makes (UUIDs; trace, span and event ids as hex) are left whole: about
# one trace id and ticket id in fifty holds a run of digits shaped like a number, and a masked
# id can no longer be followed through the logs. A phone number is never one of them.
_ID = r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{16,}"
_PHONE_OR_ID = re.compile(rf"(?P<id>{_ID})|{PHONE.pattern}")


def mask_phone_numbers(text: str, *, keep_ids: bool = True) -> str:
    """Phone numbers in `text` masked; with `keep_ids`, identifiers are not searched for them."""
    if not PHONE.search(text):
        return text

    def replace(match: re.Match[str]) -> str:
        if match.groupdict().get("id"):
            return str(match.group(0))
        if match.group("m1"):
            return f"{match.group('m1')}****{match.group('m2')}"
        area = match.group("a")
        if not match.group("cc") and not area.startswith("0"):
            return str(match.group(0))  # digits that are not a landline (no trunk prefix, no +86)
        return f"{area}-****{match.group('l')}"

    return (_PHONE_OR_ID if keep_ids else PHONE).sub(replace, text)


def mask_value(key: str, value: object) -> object:
    if value is None:
        return value
    text = str(value)
    if key in {"password", "secret", "token", "authorization", "api_key"}:
        return "***"
    if key in {"phone", "caller_number", "reporter_phone", "contact"}:
        # A phone field holds no identifier: every number in it is masked.
        if PHONE.search(text):
            return mask_phone_numbers(text, keep_ids=False)
        return text[:2] + "***"
    # Names and addresses: keep the first character so a log line stays recognisable.
    return text[:1] + "*" * min(len(text) - 1, 6) if text else text


def mask_nested(value: object, depth: int = 0) -> object:
    """Mask personal keys and phone numbers at any depth of dicts, lists and tuples."""
    if depth > 20:
        return "***"
    if isinstance(value, dict):
        return {
            k: mask_value(str(k).lower(), v)
            if str(k).lower() in PERSONAL_KEYS and not isinstance(v, (dict, list, tuple))
            else mask_nested(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(mask_nested(v, depth + 1) for v in value)
    if isinstance(value, str):
        return mask_phone_numbers(value)
    return value


def mask_personal_data(_: object, __: str, event_dict: EventDict) -> EventDict:
    for key, value in list(event_dict.items()):
        if key.lower() in PERSONAL_KEYS and not isinstance(value, (dict, list, tuple)):
            event_dict[key] = mask_value(key.lower(), value)
        else:
            event_dict[key] = mask_nested(value)
    return event_dict


# The ticket the current request or handled event is about. Set by the unit of work (from the
# event it handles or the first event it emits, brightline.messaging) and read by every log line;
# providers answer from the request itself (its path's {ticket_id}).
CURRENT_TICKET: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "brightline_ticket_id", default=None
)
TICKET_PROVIDERS: list[Callable[[], str | None]] = []


def bind_ticket(ticket_id: str | None) -> contextvars.Token[str | None] | None:
    """The ticket of the work in progress, for its log lines; None keeps the current one."""
    if not ticket_id:
        return None
    return CURRENT_TICKET.set(str(ticket_id))


def current_ticket() -> str | None:
    if ticket := CURRENT_TICKET.get():
        return ticket
    for provider in TICKET_PROVIDERS:
        if ticket := provider():
            return ticket
    return None


def add_ticket_id(_: object, __: str, event_dict: EventDict) -> EventDict:
    if "ticket_id" not in event_dict and (ticket := current_ticket()):
        event_dict["ticket_id"] = ticket
    return event_dict


def add_trace_ids(_: object, __: str, event_dict: EventDict) -> EventDict:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event_dict.setdefault("trace_id", format(span.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span.span_id, "016x"))
    return event_dict


def configure_logging(service: str, *, level: str = "INFO", json: bool = True) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,  # ticket_id, call_id bound per request
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        add_ticket_id,
        structlog.processors.format_exc_info,
        mask_personal_data,
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                lambda _, __, ed: {**ed, "service": service},
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
