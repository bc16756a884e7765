"""The event bus, with a transactional outbox.

An app publishes a fact inside its own transaction: `publish(OrderPlaced(order_number="..."))`.
The event is written to the outbox table in that same transaction, so a rolled-back
transaction publishes nothing. The row is written leased to its publisher, which after commit
sends one message, however many subscribers there are: a worker's `kernel.relay_event` then
hands the event on, one message per subscriber on the subscriber's app queue, and marks it
relayed. What the broker did not take is given back at once, and an event whose message was
lost, or whose publisher died first, is free once its lease runs out: the periodic relay
(`kernel.relay_outbox`) hands those on. Relays lock rows with SKIP LOCKED, so any number can
run at once without sending an event twice; a relay message slower than the lease (30 s from
publish) finds the event relayed, or at worst sends it beside the periodic relay.

Delivery is at least once; handlers run exactly once per event because each run records
(event id, handler) in the handler's own transaction, and a redelivered event is skipped.

Subscribers register in their AppConfig.ready(): `subscribe(OrderCancelled, on_order_cancelled)`.
"""

import dataclasses
import enum
import json
import logging
import types
import typing
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

import structlog
from celery import current_app
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import KombuError

from .faults import fault_point
from .models import DeadLetter, HandledEvent, OutboxEvent

# What the apps use; the rest (relay, deliver, purge, ...) is for the kernel's own tasks.
__all__ = [
    "Event",
    "StagedEvent",
    "outbox_insert",
    "publish",
    "redeliver",
    "stage",
    "staged_written",
    "subscribe",
]

logger = logging.getLogger(__name__)

_EVENT_TYPES: dict[str, type["Event"]] = {}
_SUBSCRIBERS: dict[str, dict[str, Callable[[Any], None]]] = defaultdict(dict)

# What a broker outage looks like to a publisher: the relay leaves the event pending.
BROKER_ERRORS = (KombuError, OSError, ConnectionError)
# How long the periodic relay leaves a new event to its publisher: more than a publish takes,
# little enough that an event whose publisher died goes out soon after.
LEASE = timedelta(seconds=30)


class Event:
    """Base of every published fact. Subclass as a frozen dataclass in `<app>/events.py`,
    named in the past tense, carrying ids and JSON-friendly values only."""

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = f"{cls.__module__.split('.')[0]}.{cls.__name__}"
        _EVENT_TYPES[cls.name] = cls


def handler_key(handler: Callable[..., Any]) -> str:
    """The name a subscriber is known by: its module and qualified name."""
    return f"{handler.__module__}.{handler.__qualname__}"


def subscribe(event_type: type[Event], handler: Callable[[Any], None]) -> None:
    """Have `handler` called with each published event of this type (on its app's queue).
    Subscribing the same handler again changes nothing."""
    _SUBSCRIBERS[event_type.name][handler_key(handler)] = handler


def subscribers(event_name: str) -> dict[str, Callable[[Any], None]]:
    """The handlers subscribed to this event name, by handler key (a copy)."""
    return dict(_SUBSCRIBERS.get(event_name, {}))


def encode(event: Event) -> dict[str, Any]:
    """The event's fields as a JSON-ready dict (stage() has checked it is a dataclass)."""
    fields = dataclasses.asdict(event)  # type: ignore[call-overload]
    payload: dict[str, Any] = json.loads(json.dumps(fields, cls=DjangoJSONEncoder))
    return payload


def _typed(kind: Any, value: Any) -> Any:
    """A JSON value back as the type the event's field declares: nested dataclasses, enums,
    tuples (`tuple[X, ...]`), datetimes and Decimals come back as they were published."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin is tuple:
        item_kind = typing.get_args(kind)[0]
        return tuple(_typed(item_kind, item) for item in value)
    if origin in (types.UnionType, typing.Union):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        return _typed(options[0], value) if len(options) == 1 else value
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = _hints(kind)
        return kind(**{key: _typed(hints[key], item) for key, item in value.items()})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(kind: type) -> dict[str, Any]:
    """A dataclass's field types (they never change: worked out once per class)."""
    if kind not in _HINTS:
        _HINTS[kind] = typing.get_type_hints(kind)
    return _HINTS[kind]


def decode(name: str, payload: dict[str, Any]) -> Event:
    """The event of this name rebuilt from its encoded payload, its fields typed as declared."""
    event_type = _EVENT_TYPES[name]
    hints = _hints(event_type)
    return event_type(**{key: _typed(hints[key], value) for key, value in payload.items()})


def publish(event: Event) -> uuid.UUID:
    """Write the event in the caller's transaction; relay it to subscribers after commit."""
    staged = stage(event)
    OutboxEvent.objects.create(**staged.row)
    staged_written(staged)
    return staged.id


@dataclasses.dataclass(frozen=True)
class StagedEvent:
    """An event about to be written, by `publish` or by a publisher's own statement (see
    `outbox_insert`): its id, name, and the outbox row's values by column."""

    id: uuid.UUID
    name: str
    row: dict[str, Any]
    relay: bool  # it has subscribers: hand it on after commit

    @property
    def params(self) -> dict[str, Any]:
        """The values as outbox_insert's named parameters (the payload as the JSON field
        prepares it for the database)."""
        return {
            f"outbox_{column}": _PAYLOAD.get_db_prep_save(value, connection)
            if column == "payload"
            else value
            for column, value in self.row.items()
        }


def stage(event: Event) -> StagedEvent:
    """The outbox row for this event, not written yet. A publisher that writes it within one
    of its own statements (outbox_insert) calls `staged_written` once that statement did."""
    if not isinstance(event, Event) or not dataclasses.is_dataclass(event):
        raise TypeError("only an Event dataclass instance is published")
    # An event nobody subscribes to is kept (the outbox is also the record of what happened)
    # but written as relayed: there is nothing to hand on, so no relay after commit.
    now = timezone.now()
    event_id = uuid.uuid4()
    relay = bool(subscribers(event.name))
    relayed_at, leased_until = (None, now + LEASE) if relay else (now, None)
    values = (event_id, event.name, encode(event), now, relayed_at, leased_until, 0, "")
    return StagedEvent(event_id, event.name, dict(zip(_COLUMNS, values, strict=True)), relay)


def staged_written(staged: StagedEvent) -> None:
    """The caller's statement wrote the staged event: relay it after the commit."""
    if staged.relay:
        transaction.on_commit(partial(_ask_for_relay, staged.id), robust=True)


_COLUMNS = (
    "id", "name", "payload", "created_at", "relayed_at", "leased_until", "attempts", "last_error",
)  # fmt: skip
_PAYLOAD = OutboxEvent._meta.get_field("payload")


def outbox_insert(source: str) -> str:
    """SQL for a publisher's own statement: an INSERT of the staged event (its `params`) for
    each row of `source` (a CTE of that statement: one row writes the event, none writes
    nothing). Static text, so the statement stays cacheable."""
    values = ", ".join(f"%(outbox_{column})s" for column in _COLUMNS)
    return (
        f"INSERT INTO {OutboxEvent._meta.db_table} ({', '.join(_COLUMNS)}) "
        f"SELECT {values} FROM {source}"
    )


def _ask_for_relay(event_id: uuid.UUID) -> None:
    """After the publisher's commit: one message asks a worker to relay the event (a request
    pays one publish and no statement, however many subscribers there are). When the broker
    refuses, the event is given back to the periodic relay at once with the error counted."""
    try:
        fault_point("broker")  # an injected broker outage fails the send as a real one would
        relay_event = current_app.tasks["kernel.relay_event"]  # by name: kernel.tasks imports us
        kwargs = {"event_id": str(event_id)}
        relay_event.apply_async(kwargs=kwargs, argsrepr="()", kwargsrepr=repr(kwargs))
    except BROKER_ERRORS as exc:
        logger.warning("outbox: broker unavailable, %s stays pending: %s", event_id, exc)
        _give_back(OutboxEvent.objects.filter(pk=event_id, relayed_at__isnull=True), str(exc))


def relay_published(event_id: str) -> bool:
    """In a worker, asked by the event's publisher: hand the event on to each subscriber and
    mark it relayed; when the broker refuses, give it back to the periodic relay with the error
    counted. False when there was nothing to do (the periodic relay was first) or the broker
    refused. The sends run outside any transaction, as the handlers they may run (eager tasks)
    must commit on their own."""
    pending = OutboxEvent.objects.filter(pk=event_id, relayed_at__isnull=True)
    name = pending.values_list("name", flat=True).first()
    if name is None:
        return False
    error = _hand_on(uuid.UUID(event_id), name)
    if error is not None:
        _give_back(pending, error)
        return False
    _mark_relayed(pending)
    return True


def _give_back(rows: QuerySet[OutboxEvent], error: str) -> None:
    """The broker refused: the periodic relay takes the event at once, the error counted."""
    rows.update(leased_until=None, attempts=F("attempts") + 1, last_error=error[:2000])


def _mark_relayed(rows: QuerySet[OutboxEvent]) -> int:
    return rows.update(
        relayed_at=timezone.now(), leased_until=None, attempts=F("attempts") + 1, last_error=""
    )


def queue_for(key: str) -> str:
    """The Celery queue a handler runs on: its app's queue, or the default queue."""
    app = key.split(".")[0]
    queues: tuple[str, ...] = settings.CELERY_TASK_QUEUES_ALL
    return app if app in queues else str(settings.CELERY_TASK_DEFAULT_QUEUE)


def _send(event_id: uuid.UUID, key: str) -> None:
    fault_point("broker")  # an injected broker outage fails the send as a real one would
    # Looked up by name (kernel.tasks registers it, and imports this module).
    deliver_event = current_app.tasks["kernel.deliver_event"]
    kwargs = {"event_id": str(event_id), "handler": key}
    # The reprs Celery would work out with saferepr (for logs and monitoring), given outright:
    # this runs after every checkout's commit.
    deliver_event.apply_async(
        kwargs=kwargs, queue=queue_for(key), argsrepr="()", kwargsrepr=repr(kwargs)
    )


def _hand_on(event_id: uuid.UUID, name: str) -> str | None:
    """Send the event to each subscriber; the broker's error, if it refused (logged)."""
    try:
        for key in subscribers(name):
            _send(event_id, key)
    except BROKER_ERRORS as exc:
        logger.warning("outbox: broker unavailable, %s stays pending: %s", event_id, exc)
        return str(exc)
    return None


def relay(*, event_ids: Iterable[uuid.UUID] | None = None, limit: int = 500) -> int:
    """Hand pending events to the broker: these (an operator's choice, leased or not), or all
    those no longer leased to their publisher. Returns how many were handed on.

    The rows are locked while they are sent (SKIP LOCKED: relays running at once share the
    work, none sends an event twice) and marked relayed in the same transaction. Stops at the
    first broker error: that event counts the error, the unsent ones stay as they were.
    """
    now = timezone.now()
    pending = OutboxEvent.objects.filter(relayed_at__isnull=True)
    if event_ids is None:
        pending = pending.filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
    else:
        pending = pending.filter(id__in=list(event_ids))
    with transaction.atomic():
        picked = pending.select_for_update(skip_locked=True).order_by("created_at")[:limit]
        sent: list[uuid.UUID] = []
        for event_id, name in picked.values_list("id", "name"):
            error = _hand_on(event_id, name)
            if error is not None:
                _give_back(OutboxEvent.objects.filter(pk=event_id), error)
                break
            sent.append(event_id)
        _mark_relayed(OutboxEvent.objects.filter(pk__in=sent))
    return len(sent)


def relay_all(*, batch: int = 500) -> int:
    """Relay until nothing is pending (or the broker refuses)."""
    total = 0
    while True:
        count = relay(limit=batch)
        total += count
        if count < batch:
            return total


def deliver(*, event_id: str, handler: str) -> bool:
    """Run one subscriber for one event, once. Returns False when there was nothing to do.

    The (event, handler) record is written in the handler's own transaction, before it runs:
    a redelivered event finds it and is skipped, and a delivery running at the same time waits
    for the first one's commit (the record is unique), then skips."""
    with transaction.atomic():
        event = OutboxEvent.objects.filter(pk=event_id).only("name", "payload").first()
        callback = _SUBSCRIBERS.get(event.name, {}).get(handler) if event else None
        if event is None or callback is None:
            logger.warning("outbox: no handler %s for event %s", handler, event_id)
            return False
        _record, first_time = HandledEvent.objects.get_or_create(event_id=event.pk, handler=handler)
        if not first_time:
            return False
        with structlog.contextvars.bound_contextvars(**_log_context(event)):
            callback(decode(event.name, event.payload))
    return True


def redeliver(*, event_type: type[Event], **fields: Any) -> int:
    """Send again, to each subscriber that has not handled it, every event of this type whose
    payload has these field values, unless an operator holds that delivery as a dead letter:
    what reconciliation does when a delivery was lost (say, a broker restart without
    persistence). Returns how many deliveries were sent."""
    sent = 0
    events = OutboxEvent.objects.filter(name=event_type.name, payload__contains=fields)
    for key in subscribers(event_type.name):
        missing = events.exclude(
            Exists(HandledEvent.objects.filter(event_id=OuterRef("pk"), handler=key))
        ).exclude(
            Exists(DeadLetter.objects.filter(event=OuterRef("pk"), name=key, replayed_at=None))
        )
        for event_id in missing.values_list("pk", flat=True):
            _send(event_id, key)
            sent += 1
    return sent


def _log_context(event: OutboxEvent) -> dict[str, Any]:
    """What the handler's log lines carry: the event, and its order and hub when it has them."""
    context: dict[str, Any] = {"event_name": event.name, "event_id": str(event.pk)}
    payload = event.payload
    order = payload.get("order_number") or payload.get("order_ref")
    if order:
        context["order_number"] = order
    if payload.get("hub_code"):
        context["hub"] = payload["hub_code"]
    return context


def purge(*, older_than_days: int = 7) -> int:
    """Delete the relayed events and the handled-event records older than this many days;
    returns how many events were deleted."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    # An event with a dead letter stays while the letter may be replayed.
    old = OutboxEvent.objects.filter(relayed_at__lt=cutoff, deadletter__isnull=True)
    deleted, _ = old.delete()
    HandledEvent.objects.filter(handled_at__lt=cutoff).delete()
    return deleted


def outbox_backlog() -> tuple[int, float]:
    """How many events wait to be handed to the broker, and the oldest one's age in seconds
    (0 when none waits): the relay's lag, for readiness, metrics and the ops dashboard."""
    pending = OutboxEvent.objects.filter(relayed_at__isnull=True)
    found = pending.aggregate(count=Count("pk"), oldest=Min("created_at"))
    oldest = found["oldest"]
    return found["count"], 0.0 if oldest is None else (timezone.now() - oldest).total_seconds()
