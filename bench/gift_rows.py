"""The rows the scheduler bench works on: gifts seeded in bulk, released at one instant, measured.

Seeding a million gifts one ORM object at a time would take longer than the bench, so the gifts
are generated inside the database by one `INSERT … SELECT` over a recursive counter (the same
statement on SQLite and PostgreSQL). They are paid gifts from one sender to one friend who uses
the mini-program, so sending each one issues a voucher and queues a template message, as in
production. Everything is read back from the rows: lateness is `sent_at − send_at`.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, literal, select, text, update
from sqlalchemy.engine import make_url

from service.auth.models import User
from service.dbtypes import UTCDateTime, utcnow
from service.gifting.models import SCHEDULED, SENT, Gift, VoucherTemplate
from service.ids import new_id

APP_ID = "2021000000000001"
QUANTITY = 1  # one voucher per gift
# Burst gifts wait here until released; later gifts are due from a day on, never in the run.
PARKED_AT = datetime(2099, 1, 1, tzinfo=utcnow().tzinfo)
WARMING_AT = datetime(2099, 1, 2, tzinfo=utcnow().tzinfo)  # parked for the workers' warm-up
LATER_FROM = timedelta(days=1)


@dataclass(frozen=True)
class Parties:
    """The template, sender and friend every seeded gift shares."""

    template_id: str
    sender_id: str
    friend_id: str


def engine_for(database_url: str) -> Engine:
    """An engine on Minifin's database (psycopg 3 for PostgreSQL, as the app uses)."""
    from sqlalchemy import create_engine

    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url)


def seed_parties(engine: Engine) -> Parties:
    """A voucher template, a sender and a friend known to the platform."""
    parties = Parties(new_id("vtp"), new_id("usr"), new_id("usr"))
    with engine.begin() as connection:
        connection.execute(insert(VoucherTemplate).values(
            id=parties.template_id, name="Flat white", kind="item", face_value_fen=3200,
            price_fen=2900, currency="CNY", validity_days=30, claim_window_hours=72,
            covers=[{"name": "birthday", "image_url": "https://cdn.example.com/b.png"}],
            max_quantity_per_order=5, active=True, created_at=utcnow(), updated_at=utcnow(),
        ))  # fmt: skip
        for user_id, platform_id in ((parties.sender_id, "2088000000000001"),
                                     (parties.friend_id, "2088000000000002")):  # fmt: skip
            connection.execute(insert(User).values(
                id=user_id, app_id=APP_ID, platform_user_id=platform_id, created_at=utcnow()
            ))  # fmt: skip
    return parties


def seed_gifts(
    engine: Engine, parties: Parties, count: int, send_at: datetime, spread: timedelta
) -> float:
    """`count` paid gifts due from `send_at`, spaced evenly over `spread`; returns seconds taken.

    One statement: a recursive counter feeds `INSERT … SELECT`, so nothing crosses the wire per
    row. Ids are `gft_` + a random run tag + the counter.
    """
    if count <= 0:
        return 0.0
    started = time.perf_counter()
    tag = f"gft_{secrets.token_hex(4)}_"
    counter = select(literal(1).label("n")).cte("counter", recursive=True)
    counter = counter.union_all(select(counter.c.n + 1).where(counter.c.n < count))
    step = spread.total_seconds() / count
    now = literal(utcnow(), UTCDateTime())
    with engine.begin() as connection:
        if not spread:
            due = literal(send_at, UTCDateTime())
        elif connection.dialect.name == "postgresql":
            offset = func.make_interval(0, 0, 0, 0, 0, 0, (counter.c.n - 1) * step)
            due = literal(send_at, UTCDateTime()) + offset
        else:  # SQLite keeps times as text in this format: compute them as text
            start = send_at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            offset = func.printf("+%.6f seconds", (counter.c.n - 1) * step)
            due = func.strftime("%Y-%m-%d %H:%M:%f000", start, offset)
        rows = select(
            (literal(tag) + func.cast(counter.c.n, Gift.id.type)).label("id"),
            literal(parties.sender_id), literal(parties.template_id), literal(QUANTITY),
            literal(2900), literal(2900 * QUANTITY), literal("CNY"), literal("user"),
            literal(parties.friend_id), literal("Happy birthday"), literal("birthday"), due,
            literal(SCHEDULED), now, now,
        )  # fmt: skip
        columns = ["id", "sender_id", "template_id", "quantity", "unit_price_fen", "amount_fen",
                   "currency", "recipient_kind", "recipient_user_id", "message", "cover",
                   "send_at", "status", "created_at", "paid_at"]  # fmt: skip
        connection.execute(insert(Gift).from_select(columns, rows))
    analyze(engine)
    return time.perf_counter() - started


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give a real database,
    then (PostgreSQL) a checkpoint.

    Without the statistics PostgreSQL believes the freshly loaded `gifts` nearly empty and may
    join a batch to it by scanning every scheduled gift. Without the checkpoint a measurement
    could start with the previous one's dirty pages still to write, or be the one a timed
    checkpoint lands in (then every page it touches first is written whole to the WAL): runs of
    the same code drained 20 000 gifts at rates up to a quarter apart.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("CHECKPOINT"))


def release(
    engine: Engine, at: datetime, parked_at: datetime = PARKED_AT, count: int | None = None
) -> tuple[int, float]:
    """Make the gifts parked at `parked_at` (at most `count` of them, if given) due at `at` in
    one UPDATE; returns (gifts, seconds taken)."""
    started = time.perf_counter()
    parked = Gift.send_at == parked_at
    if count is not None:
        parked = Gift.id.in_(select(Gift.id).where(parked).limit(count).scalar_subquery())
    with engine.begin() as connection:
        released = connection.execute(update(Gift).where(parked).values(send_at=at)).rowcount
    return released, time.perf_counter() - started


def parked_gift_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Gift.id).where(Gift.send_at == PARKED_AT)))


def scheduled_gifts(engine: Engine) -> list[tuple[str, datetime]]:
    """(id, send_at) of every gift waiting to be sent."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(Gift.id, Gift.send_at).where(Gift.status == SCHEDULED)
        )]  # fmt: skip


def count_sent(engine: Engine) -> int:
    """How many gifts are sent."""
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).where(Gift.status == SENT))


def wait_until_sent(engine: Engine, expected: int, timeout: float, stall: float = 60) -> float:
    """Poll every 0.25 s until `expected` gifts are sent; returns the wall time it was seen.

    Gives up after `timeout` seconds, or after `stall` seconds without a single gift sent.
    """
    deadline = time.monotonic() + timeout
    last, moved = -1, time.monotonic()
    while (sent := count_sent(engine)) < expected:
        if sent != last:
            last, moved = sent, time.monotonic()
        if time.monotonic() > min(deadline, moved + stall):
            raise TimeoutError(f"{sent}/{expected} gifts sent")
        time.sleep(0.25)  # the figures come from the gifts' send times, not from this poll
    return time.time()


@dataclass(frozen=True)
class Lateness:
    """Nearest-rank lateness figures of some sent gifts, in seconds."""

    count: int
    p50: float
    p99: float
    worst: float


def lateness(engine: Engine, since: datetime | None = None) -> Lateness:
    """Lateness of the gifts sent (due at or after `since`, if given)."""
    query = select(Gift.send_at, Gift.sent_at).where(Gift.status == SENT)
    if since is not None:
        query = query.where(Gift.send_at >= since)
    with engine.connect() as connection:
        values = sorted((sent - due).total_seconds() for due, sent in connection.execute(query))
    if not values:
        return Lateness(0, 0.0, 0.0, 0.0)

    def rank(q: float) -> float:
        return values[max(0, math.ceil(q * len(values)) - 1)]

    return Lateness(len(values), rank(0.5), rank(0.99), values[-1])


def insert_due_gifts(engine: Engine, parties: Parties, send_at: datetime, count: int) -> None:
    """A few gifts due at `send_at`, inserted like a purchase would (the steady feeder's step)."""
    now = utcnow()
    rows = [{
        "id": new_id("gft"), "sender_id": parties.sender_id, "template_id": parties.template_id,
        "quantity": QUANTITY, "unit_price_fen": 2900, "amount_fen": 2900 * QUANTITY,
        "currency": "CNY", "recipient_kind": "user", "recipient_user_id": parties.friend_id,
        "message": "Happy birthday", "cover": "birthday", "send_at": send_at,
        "status": SCHEDULED, "created_at": now, "paid_at": now,
    } for _ in range(count)]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Gift), rows)
