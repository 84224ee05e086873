"""Cursor pagination on every list: all rows, once each, in order, at any page size; limits
checked; cursors that were changed, forged, borrowed or sent with other filters refused; and pages
that hold exactly the rows there were when paging began while another thread inserts more."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from service.credit.models import CreditCheck, CreditConsent, Deposit
from service.dbtypes import utcnow
from service.extensions import db
from service.gifting.models import Gift, Voucher, VoucherTemplate
from service.identity.models import IdentityEvent
from service.pagination import Ordering, paginate
from tests import pagination_helpers as rows
from tests.conftest import auth_code, bearer, migrated_app
from tests.gifting_helpers import client_token

N = 7  # rows per list: pairs share a time, so the tie-breaker decides their order

# name → (url, whose token reads it, model, sort column, a row at a time for user 0)
LISTS = {
    "templates": ("/v1/voucher-templates", "user", VoucherTemplate, VoucherTemplate.created_at,
                  lambda when, me, other: rows.template(when)),
    "templates, merchant, inactive": (
        "/v1/voucher-templates?active=false", "merchant", VoucherTemplate,
        VoucherTemplate.created_at, lambda when, me, other: rows.template(when, active=False)),
    "gifts sent": ("/v1/gifts", "user", Gift, Gift.created_at,
                   lambda when, me, other: rows.gift(when, me)),
    "gifts received": ("/v1/gifts?role=received", "user", Gift, Gift.created_at,
                       lambda when, me, other: rows.gift(when, other, me)),
    "vouchers": ("/v1/vouchers", "user", Voucher, Voucher.issued_at,
                 lambda when, me, other: rows.voucher(when, me)),
    "consents": ("/v1/credit/consents", "user", CreditConsent, CreditConsent.granted_at,
                 lambda when, me, other: rows.consent(when, me)),
    "own checks": ("/v1/credit/checks", "user", CreditCheck, CreditCheck.created_at,
                   lambda when, me, other: rows.check(when, me)),
    "a user's checks": ("/v1/users/{me}/credit/checks", "merchant", CreditCheck,
                        CreditCheck.created_at, lambda when, me, other: rows.check(when, me)),
    "deposits": ("/v1/credit/deposits", "user", Deposit, Deposit.created_at,
                 lambda when, me, other: rows.deposit(when, me)),
    "identity events": ("/v1/identity/events", "user", IdentityEvent, IdentityEvent.at,
                        lambda when, me, other: rows.identity_event(when, me)),
}  # fmt: skip


@pytest.fixture
def readers(app, client, login) -> dict:
    me, other = login(0), login(1)
    merchant = client_token(app, client, "templates:write", "credit:check")
    return {"user": bearer(me["access_token"]), "other": bearer(other["access_token"]),
            "merchant": bearer(merchant), "me": me["user"]["id"],
            "other_id": other["user"]["id"]}  # fmt: skip


def _seed(app, name: str, readers: dict, count: int = N) -> list:
    """`count` rows of the list for user 0, and noise it must not show; their expected order."""
    _, _, model, sort, make = LISTS[name]
    with app.app_context():
        made = [make(rows.at(i // 2), readers["me"], readers["other_id"]) for i in range(count)]
        if name.startswith("templates"):  # the other view's rows, which this one must not show
            rows.template(rows.at(0), active=name == "templates, merchant, inactive")
        else:
            make(rows.at(0), readers["other_id"], readers["me"])  # another user's row
        db.session.flush()
        ids = [row.id for row in made]
        db.session.commit()
        expected = rows.newest_first(model, ids, sort)
        db.session.rollback()
    return expected


def pages(client, url: str, headers: dict, limit: int) -> Iterator[dict]:
    """Every page of a list, following `next_cursor` until `has_more` is false."""
    cursor = None
    while True:
        joiner = "&" if "?" in url else "?"
        query = f"{joiner}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url + query, headers=headers)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        yield page
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return
        cursor = page["next_cursor"]


@pytest.mark.parametrize("name", list(LISTS))
def test_every_list_pages_through_all_its_rows_once_in_order(app, client, readers, name):
    expected = _seed(app, name, readers)
    url, reader, *_ = LISTS[name]
    url = url.format(me=readers["me"])
    for limit in (1, 2, 3, N - 1, N, 100):
        seen = [
            [rows.key(r) for r in page["data"]]
            for page in pages(client, url, readers[reader], limit)
        ]
        assert [row for ids in seen for row in ids] == expected, limit
        assert all(len(ids) == limit for ids in seen[:-1]) and 0 < len(seen[-1]) <= limit
    default = client.get(url, headers=readers[reader]).get_json()
    assert len(default["data"]) == N and default["has_more"] is False


def test_identity_events_page_newest_first(app, client, readers):
    _seed(app, "identity events", readers)
    seen = [r["at"] for p in pages(client, "/v1/identity/events", readers["user"], 2)
            for r in p["data"]]  # fmt: skip
    assert seen == sorted(seen, reverse=True) and len(seen) == N


def test_twenty_rows_by_default_and_a_hundred_at_most(app, client, readers):
    _seed(app, "gifts sent", readers, count=101)
    default = client.get("/v1/gifts", headers=readers["user"]).get_json()
    most = client.get("/v1/gifts?limit=100", headers=readers["user"]).get_json()
    assert (len(default["data"]), default["has_more"]) == (20, True)
    assert (len(most["data"]), most["has_more"]) == (100, True)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "x", "2.5", ""])
def test_a_limit_outside_one_to_a_hundred_is_a_422_naming_it(client, readers, limit):
    response = client.get(f"/v1/gifts?limit={limit}", headers=readers["user"])
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert "limit" in json.dumps(body["errors"]), body


def _a_cursor(app, client, readers, url: str = "/v1/gifts", reader: str = "user") -> str:
    page = client.get(f"{url}{'&' if '?' in url else '?'}limit=1", headers=readers[reader])
    assert page.get_json()["has_more"], page.get_json()
    return page.get_json()["next_cursor"]


def _refused(response) -> None:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "invalid_cursor" and "cursor" in body["errors"], body


def test_a_changed_or_forged_cursor_is_refused(app, client, readers):
    _seed(app, "gifts sent", readers)
    cursor = _a_cursor(app, client, readers)
    payload, mac = cursor.split(".")
    changed = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + mac
    other_mac = payload + "." + ("0" if mac[0] != "0" else "1") + mac[1:]
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    values[0] = "2099-01-01T00:00:00+00:00"
    forged = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    for bad in (changed, other_mac, f"{forged}.{mac}", f"{forged}.{'0' * 22}"):
        _refused(client.get(f"/v1/gifts?cursor={bad}", headers=readers["user"]))
    garbage = client.get("/v1/gifts?cursor=not-a-cursor", headers=readers["user"])
    assert garbage.status_code == 422 and "cursor" in json.dumps(garbage.get_json()["errors"])
    good = client.get(f"/v1/gifts?limit=1&cursor={cursor}", headers=readers["user"])
    assert good.status_code == 200


def test_a_cursor_of_another_list_or_person_or_with_other_filters_is_refused(app, client, readers):
    for name in ("gifts sent", "gifts received", "vouchers", "own checks"):
        _seed(app, name, readers)
    with app.app_context():
        for i in range(3):
            rows.template(rows.at(i), active=i == 0)
        db.session.commit()
    sent = _a_cursor(app, client, readers)
    user, other = readers["user"], readers["other"]
    _refused(client.get(f"/v1/gifts?role=received&cursor={sent}", headers=user))
    _refused(client.get(f"/v1/vouchers?cursor={sent}", headers=user))
    _refused(client.get(f"/v1/gifts?cursor={sent}", headers=other))  # another person's list
    inactive = _a_cursor(app, client, readers, "/v1/voucher-templates?active=false", "merchant")
    for query in ("active=true&", "", "limit=5&active=true&"):
        _refused(client.get(f"/v1/voucher-templates?{query}cursor={inactive}",
                            headers=readers["merchant"]))  # fmt: skip
    _refused(client.get(f"/v1/voucher-templates?cursor={inactive}", headers=user))
    mine = _a_cursor(app, client, readers, "/v1/credit/checks")
    theirs = client.get(f"/v1/users/{readers['other_id']}/credit/checks?cursor={mine}",
                        headers=readers["merchant"])  # fmt: skip
    _refused(theirs)
    same = client.get(f"/v1/users/{readers['me']}/credit/checks?cursor={mine}",
                      headers=readers["merchant"])  # fmt: skip
    assert same.status_code == 200  # the user's list and a merchant's list of them are one


# --- pages under concurrent inserts, on each engine ---------------------------------------


@pytest.fixture
def engine_app(app, app_env, any_database_url) -> Iterator:
    with migrated_app(app_env, any_database_url) as application:
        yield application


@pytest.mark.parametrize("name", ["gifts sent", "vouchers", "identity events"])
def test_pages_hold_exactly_the_rows_there_were_while_another_thread_inserts(
    engine_app, mock_idp, demo_users, name
):
    client = engine_app.test_client()
    code = auth_code(mock_idp.url, demo_users[0]["user_id"])
    me = client.post("/v1/sessions", json={"auth_code": code}).get_json()
    url, _, model, sort, make = LISTS[name]
    with engine_app.app_context():
        made = [make(rows.at(i // 3), me["user"]["id"], None) for i in range(40)]
        db.session.flush()
        expected = [row.id for row in made]
        db.session.commit()
        expected = rows.newest_first(model, expected, sort)
        db.session.rollback()
    inserted, allowed, progress, stop = [0], [0], threading.Condition(), threading.Event()

    def insert_meanwhile() -> None:
        """Up to three new rows after each page read: the first before the next page is read,
        the others while it is."""
        with engine_app.app_context():
            while True:
                with progress:
                    progress.wait_for(lambda: stop.is_set() or inserted[0] < allowed[0])
                    if stop.is_set():
                        break
                make(utcnow(), me["user"]["id"], None)
                db.session.commit()
                with progress:
                    inserted[0] += 1
                    progress.notify_all()
            db.session.remove()

    inserter = threading.Thread(target=insert_meanwhile, daemon=True)
    headers, seen, cursor = bearer(me["access_token"]), [], None
    inserter.start()
    try:
        while True:
            if cursor:  # paging began: a row committed since the last page was read
                with progress:
                    assert progress.wait_for(lambda: inserted[0] >= allowed[0] - 2, timeout=30)
            query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(url + query, headers=headers).get_json()
            with progress:
                allowed[0] += 3
                progress.notify_all()
            seen.append(page["data"])
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
    finally:
        with progress:
            stop.set()
            progress.notify_all()
        inserter.join(timeout=30)
    assert [rows.key(row) for data in seen for row in data] == expected
    assert len(seen) == 14 and inserted[0] >= 13  # a row arrived before every page after the first


# --- the core, over page sizes and insert interleavings -----------------------------------

ORDER = Ordering(VoucherTemplate.created_at, VoucherTemplate.id)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ticks=st.lists(st.integers(0, 4), max_size=25),
    limit=st.integers(1, 8),
    arrivals=st.lists(st.integers(0, 3), max_size=12),
)
def test_keyset_pages_never_skip_or_repeat_whatever_arrives_between_them(
    app, ticks, limit, arrivals
):
    with app.app_context():
        db.session.execute(delete(VoucherTemplate))
        made = [rows.template(rows.at(tick)) for tick in ticks]
        db.session.flush()
        expected = rows.newest_first(VoucherTemplate, [row.id for row in made],
                                     VoucherTemplate.created_at)  # fmt: skip
        db.session.commit()
        seen, cursor, newer = [], None, 100
        for page_number in range(len(ticks) + 2):
            page = paginate(select(VoucherTemplate), ORDER, list_name="core", limit=limit,
                            cursor=cursor)  # fmt: skip
            seen.append([row.id for row in page.data])
            for _ in range(arrivals[page_number] if page_number < len(arrivals) else 0):
                rows.template(rows.at(newer))  # newer than every row there was
                newer += 1
            db.session.commit()
            if not page.has_more:
                break
            cursor = page.next_cursor
        flat = [row for ids in seen for row in ids]
        assert flat[: len(expected)] == expected and len(flat) == len(expected)
        assert all(len(ids) == limit for ids in seen[:-1]) and len(seen[-1]) <= limit
        db.session.execute(delete(VoucherTemplate))
        db.session.commit()
