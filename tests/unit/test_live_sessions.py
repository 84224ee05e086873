"""The per-process memory of live sessions (service/auth/live_sessions.py)."""

from __future__ import annotations

from service.auth.live_sessions import LiveSessions


def _at(live: LiveSessions, now: list[float]) -> LiveSessions:
    live.clock = lambda: now[0]
    return live


def test_a_session_is_remembered_for_its_seconds_then_checked_again():
    now = [100.0]
    live = _at(LiveSessions(1.0), now)
    live.put("ses_1", "row")

    assert live.get("ses_1") == "row"
    now[0] = 100.99
    assert live.get("ses_1") == "row"
    now[0] = 101.0
    assert live.get("ses_1") is None


def test_forget_refuses_at_once_and_zero_seconds_remembers_nothing():
    live = LiveSessions(60.0)
    live.put("ses_1", "row")
    live.forget("ses_1")
    off = LiveSessions(0)
    off.put("ses_2", "row")

    assert live.get("ses_1") is None
    assert off.get("ses_2") is None


def test_when_full_the_expired_go_first_then_the_oldest():
    now = [0.0]
    live = _at(LiveSessions(10.0, max_entries=10), now)
    live.put("old", "expired soon")
    now[0] = 5.0
    for n in range(9):
        live.put(f"ses_{n}", n)
    now[0] = 10.5  # "old" has expired, the nine have not
    live.put("ses_new", "new")

    assert live.get("ses_new") == "new"
    assert all(live.get(f"ses_{n}") == n for n in range(9))
    live.put("ses_newer", "newer")  # full of live entries: the oldest tenth goes
    assert live.get("ses_0") is None
    assert live.get("ses_1") == 1
    assert live.get("ses_newer") == "newer"
    assert len(live._entries) <= 10
