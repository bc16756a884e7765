"""The event bus, with a transactional outbox.

An app publishes a fact inside its own transaction: `publish(OrderPlaced(order_number="..."))`.
The event is written to the outbox table in that same transaction, so a rolled-back
transaction publishes nothing. The row is written leased to its publisher, which hands it on
to Celery after commit, one message per subscriber on the subscriber's app queue, and then
marks it relayed (one UPDATE). What the broker did not take is given back at once, and what
a publisher that died left behind is free once its lease runs out: the periodic relay
(`kernel.relay_outbox`) hands those on. Relays lock rows with SKIP LOCKED, so any number can
run at once without sending an event twice; a publisher slower than its lease (30 s from
publish) may send it alongside a relay.

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

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from .models import HandledEvent, OutboxEvent

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
    return f"{handler.__module__}.{handler.__qualname__}"


def subscribe(event_type: type[Event], handler: Callable[[Any], None]) -> None:
    _SUBSCRIBERS[event_type.name][handler_key(handler)] = handler


def subscribers(event_name: str) -> dict[str, Callable[[Any], None]]:
    return dict(_SUBSCRIBERS.get(event_name, {}))


def encode(event: Event) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(event), cls=DjangoJSONEncoder))


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
        hints = typing.get_type_hints(kind)
        return kind(**{key: _typed(hints[key], item) for key, item in value.items()})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value


def decode(name: str, payload: dict[str, Any]) -> Event:
    event_type = _EVENT_TYPES[name]
    hints = typing.get_type_hints(event_type)
    return event_type(**{key: _typed(hints[key], value) for key, value in payload.items()})


def publish(event: Event) -> uuid.UUID:
    """Write the event in the caller's transaction; relay it to subscribers after commit."""
    staged = stage(event)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, staged.params)
    staged_written(staged)
    return staged.id


@dataclasses.dataclass(frozen=True)
class StagedEvent:
    """An event about to be written by the publisher's own statement (see `outbox_insert`):
    its id, name, and the outbox row's values (prepared for the database, in column order)."""

    id: uuid.UUID
    name: str
    values: tuple[Any, ...]
    relay: bool  # it has subscribers: hand it on after commit

    @property
    def params(self) -> dict[str, Any]:
        """The values as outbox_insert's named parameters."""
        return {
            f"outbox_{column}": value for column, value in zip(_COLUMNS, self.values, strict=True)
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
    return StagedEvent(event_id, event.name, tuple(_prepared(_COLUMNS, values)), relay)


def staged_written(staged: StagedEvent) -> None:
    """The caller's statement wrote the staged event: relay it after the commit."""
    if staged.relay:
        transaction.on_commit(partial(_relay_published, staged.id, staged.name), robust=True)


_COLUMNS = (
    "id", "name", "payload", "created_at", "relayed_at", "leased_until", "attempts", "last_error",
)  # fmt: skip


def outbox_insert(source: str | None = None) -> str:
    """SQL for a publisher's own statement: an INSERT of the staged event (its `params`) for
    each row of `source` (a CTE of that statement: one row writes the event, none writes
    nothing). Static text, so the statement stays cacheable. Without a source it is
    `publish`'s plain INSERT of one row."""
    values = ", ".join(f"%(outbox_{column})s" for column in _COLUMNS)
    return f"INSERT INTO {OutboxEvent._meta.db_table} ({', '.join(_COLUMNS)}) SELECT {values}" + (
        f" FROM {source}" if source else ""
    )


_INSERT = outbox_insert()


def _prepared(columns: Iterable[str], values: Iterable[Any]) -> list[Any]:
    """The values as the model's fields prepare them for the database. On PostgreSQL the
    driver takes the ids, datetimes, numbers and text as they are, so only the JSON payload
    goes through its field (the other fields would hand them back unchanged, at some cost on
    every publish)."""
    if connection.vendor == "postgresql":
        return [
            _PAYLOAD.get_db_prep_save(value, connection) if column == "payload" else value
            for column, value in zip(columns, values, strict=True)
        ]
    return [
        OutboxEvent._meta.get_field(column).get_db_prep_save(value, connection)
        for column, value in zip(columns, values, strict=True)
    ]


_PAYLOAD = OutboxEvent._meta.get_field("payload")


_MARK_RELAYED = (
    f"UPDATE {OutboxEvent._meta.db_table} SET relayed_at = %s, leased_until = NULL, "
    "attempts = attempts + 1, last_error = '' WHERE id = %s AND relayed_at IS NULL"
)


def _relay_published(event_id: uuid.UUID, name: str) -> None:
    """After the publisher's commit: hand its event on and mark it relayed, or, when the
    broker refuses, give it back to the periodic relay at once with the error counted."""
    error = _hand_on(event_id, name)
    if error is not None:
        OutboxEvent.objects.filter(pk=event_id).update(
            leased_until=None, attempts=F("attempts") + 1, last_error=error
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(_MARK_RELAYED, _prepared(("relayed_at", "id"), (timezone.now(), event_id)))


def queue_for(key: str) -> str:
    app = key.split(".")[0]
    return app if app in settings.CELERY_TASK_QUEUES_ALL else settings.CELERY_TASK_DEFAULT_QUEUE


def _send(event_id: uuid.UUID, key: str) -> None:
    from .tasks import deliver_event

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
        return str(exc)[:2000]
    return None


def relay(*, event_ids: Iterable[uuid.UUID] | None = None, limit: int = 500) -> int:
    """Hand pending events to the broker: these (an operator's choice, leased or not), or all
    those no longer leased to their publisher. Returns how many were handed on.

    Stops at the first broker error: those events stay pending for the next relay.
    """
    if connection.vendor == "postgresql":
        return _relay_claiming(event_ids=event_ids, limit=limit)
    relayed = 0
    with transaction.atomic():
        pending = OutboxEvent.objects.select_for_update(skip_locked=True).filter(
            relayed_at__isnull=True
        )
        if event_ids is not None:
            pending = pending.filter(id__in=list(event_ids))
        else:
            pending = pending.filter(
                Q(leased_until__isnull=True) | Q(leased_until__lte=timezone.now())
            )
        for row in pending.order_by("created_at")[:limit]:
            error = _hand_on(row.id, row.name)
            if error is not None:
                OutboxEvent.objects.filter(pk=row.pk).update(
                    attempts=F("attempts") + 1, last_error=error
                )
                break
            OutboxEvent.objects.filter(pk=row.pk).update(
                relayed_at=timezone.now(),
                leased_until=None,
                attempts=F("attempts") + 1,
                last_error="",
            )
            relayed += 1
    return relayed


_CLAIM = f"""
    UPDATE {OutboxEvent._meta.db_table} AS o
       SET relayed_at = %s, leased_until = NULL, attempts = o.attempts + 1, last_error = ''
      FROM (SELECT id, last_error FROM {OutboxEvent._meta.db_table}
             WHERE relayed_at IS NULL {{which}}
             ORDER BY created_at
             LIMIT %s
               FOR UPDATE SKIP LOCKED) AS picked
     WHERE o.id = picked.id
 RETURNING o.id, o.name, o.created_at, picked.last_error
"""


def _relay_claiming(*, event_ids: Iterable[uuid.UUID] | None, limit: int) -> int:
    """PostgreSQL: claim the pending rows (SKIP LOCKED) and mark them relayed in one
    statement, send, and commit; a broker error puts the unsent rows back as they were (the
    one that failed with its error counted). A crash before commit leaves them all pending."""
    now = timezone.now()
    if event_ids is None:
        which = "AND (leased_until IS NULL OR leased_until <= %s)"
        params: list[Any] = [now, now, limit]
    else:
        which = "AND id = ANY(%s)"
        params = [now, [uuid.UUID(str(event_id)) for event_id in event_ids], limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM.format(which=which), params)
        claimed = sorted(cursor.fetchall(), key=lambda row: row[2])
        for position, (event_id, name, _created, _error) in enumerate(claimed):
            error = _hand_on(event_id, name)
            if error is not None:
                OutboxEvent.objects.filter(pk=event_id).update(relayed_at=None, last_error=error)
                for unsent_id, _name, _created, earlier_error in claimed[position + 1 :]:
                    OutboxEvent.objects.filter(pk=unsent_id).update(
                        relayed_at=None, attempts=F("attempts") - 1, last_error=earlier_error
                    )
                return position
    return len(claimed)


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

    The (event, handler) record and the read of the event go in one statement on PostgreSQL
    (`INSERT ... ON CONFLICT DO NOTHING` joined to the event row, no savepoint), then the
    handler, all in the handler's transaction: the fewer round trips here, the sooner a
    dispatch goes out. A redelivered event inserts nothing and is skipped."""
    if not any(handler in keyed for keyed in _SUBSCRIBERS.values()):
        logger.warning("outbox: no handler %s for event %s", handler, event_id)
        return False
    if connection.vendor != "postgresql":
        return _deliver_orm(event_id=event_id, handler=handler)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_HANDLING, [handler, timezone.now(), uuid.UUID(str(event_id))])
            row = cursor.fetchone()
        if row is None:  # no such event, or this handler already ran it
            if not OutboxEvent.objects.filter(pk=event_id).exists():
                logger.warning("outbox: no handler %s for event %s", handler, event_id)
            return False
        name, payload = row
        callback = _SUBSCRIBERS.get(name, {}).get(handler)
        if callback is None:  # the handler exists, but not for this event: record nothing
            transaction.set_rollback(True)
            logger.warning("outbox: no handler %s for event %s", handler, event_id)
            return False
        callback(decode(name, json.loads(payload) if isinstance(payload, str) else payload))
    return True


_CLAIM_HANDLING = f"""
    WITH handled AS (
        INSERT INTO {HandledEvent._meta.db_table} (event_id, handler, handled_at)
        SELECT id, %s, %s FROM {OutboxEvent._meta.db_table} WHERE id = %s
        ON CONFLICT (event_id, handler) DO NOTHING
        RETURNING event_id
    )
    SELECT o.name, o.payload
      FROM {OutboxEvent._meta.db_table} o JOIN handled ON o.id = handled.event_id
"""


def _deliver_orm(*, event_id: str, handler: str) -> bool:
    with transaction.atomic():
        row = OutboxEvent.objects.filter(pk=event_id).only("id", "name", "payload").first()
        callback = _SUBSCRIBERS.get(row.name if row else "", {}).get(handler)
        if callback is None:
            logger.warning("outbox: no handler %s for event %s", handler, event_id)
            return False
        try:
            with transaction.atomic():
                HandledEvent.objects.create(event_id=row.id, handler=handler)
        except IntegrityError:
            return False
        callback(decode(row.name, row.payload))
    return True


def purge(*, older_than_days: int = 7) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxEvent.objects.filter(relayed_at__lt=cutoff).delete()
    HandledEvent.objects.filter(handled_at__lt=cutoff).delete()
    return deleted
