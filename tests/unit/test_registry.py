"""Handler tables refuse a name claimed twice, whether by two handlers or one listed twice."""

from __future__ import annotations

import pytest

from service.registry import unique_table


def send(job):
    return job


def test_a_table_keeps_the_declared_order():
    assert list(unique_table("job kind", [("b", send), ("a", print)])) == ["b", "a"]


def test_two_handlers_for_one_name_are_refused():
    with pytest.raises(RuntimeError, match="job kind 'send' is claimed twice"):
        unique_table("job kind", [("send", send), ("send", lambda job: None)])


def test_one_handler_listed_twice_is_refused_too():
    with pytest.raises(RuntimeError, match="notification type 'send' is claimed twice"):
        unique_table("notification type", [("send", send), ("send", send)])
