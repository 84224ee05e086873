"""The composition root's wiring: every job kind the code enqueues has a handler, every
notification type the gateway knows has one, and a name claimed twice stops the app."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import click
import pytest

from service.bootstrap import CONTRIBUTIONS, default_wiring
from service.contributions import Contributions, compose
from service.gateway.notify_types import NOTIFY_TYPES
from service.scheduler.worker import DueWorkSource

SERVICE = Path(__file__).resolve().parents[2] / "service"
ENQUEUERS = {"enqueue", "enqueue_many"}
# The outbox's own functions pass a caller's `kind` on; every other call names a kind.
SKIPPED = {SERVICE / "scheduler" / "outbox.py"}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SERVICE.parent).with_suffix("").parts)


def _kind_of(call: ast.Call, path: Path) -> str:
    """The job kind a call enqueues: a string, or a constant resolved in the calling module."""
    where = f"{path.relative_to(SERVICE.parent)}:{call.lineno}"
    assert call.args, f"{where}: enqueue without a kind"
    argument = call.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    names: list[str] = []
    while isinstance(argument, ast.Attribute):
        names.insert(0, argument.attr)
        argument = argument.value
    assert isinstance(argument, ast.Name), f"{where}: the kind must be a named constant"
    value = importlib.import_module(_module_name(path))
    for name in [argument.id, *names]:
        value = getattr(value, name)
    assert isinstance(value, str), f"{where}: the kind is not a string constant"
    return value


def enqueued_kinds() -> dict[str, str]:
    """Every job kind passed to enqueue()/enqueue_many() under service/, with one place each."""
    kinds: dict[str, str] = {}
    for path in sorted(SERVICE.rglob("*.py")):
        if path in SKIPPED or "mock_idp" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in ENQUEUERS:
                kinds.setdefault(_kind_of(node, path), f"{_module_name(path)}:{node.lineno}")
    return kinds


def test_the_scan_finds_the_kinds_the_code_enqueues():
    kinds = enqueued_kinds()
    assert {"gifting.refund", "gateway.template_message", "credit.resume_deposit_operation",
            "identity.settle_verification"} <= set(kinds)  # fmt: skip


def test_every_job_kind_the_code_enqueues_has_a_handler():
    handlers = default_wiring().job_handlers
    missing = {kind: where for kind, where in enqueued_kinds().items() if kind not in handlers}
    assert missing == {}, "enqueued without a handler in any contributions.py"


def test_every_handled_job_kind_is_enqueued_somewhere():
    assert set(default_wiring().job_handlers) == set(enqueued_kinds())


def test_every_notification_type_the_gateway_knows_has_a_handler_and_no_other_type_has():
    assert set(default_wiring().notification_handlers) == set(NOTIFY_TYPES)


def test_every_process_runs_the_same_due_work_as_before():
    assert list(default_wiring().due_work) == [
        "outbox", "unclaimed_gifts", "due_gifts", "expired_consents", "event_retention",
    ]


def _handler(job) -> None:
    """A stand-in handler."""


def _other_handler(job) -> None:
    """Another stand-in handler."""


@pytest.mark.parametrize(
    ("field", "first", "second", "what"),
    [
        ("job_handlers", (("gifting.refund", _handler),), (("gifting.refund", _other_handler),),
         "job kind 'gifting.refund'"),
        ("notification_handlers", (("trade_status_sync", _handler),),
         (("trade_status_sync", _other_handler),), "notification type 'trade_status_sync'"),
        ("due_work", (DueWorkSource("outbox", lambda w, n: 0),),
         (DueWorkSource("outbox", lambda w, n: 1),), "due-work source 'outbox'"),
        ("cli_commands", (click.Command("jobs"),), (click.Command("jobs"),), "command 'jobs'"),
    ],
)  # fmt: skip
def test_two_capabilities_claiming_one_name_stop_the_composition(field, first, second, what):
    parts = (Contributions(name="a", **{field: first}), Contributions(name="b", **{field: second}))

    with pytest.raises(RuntimeError, match=re.escape(f"{what} is claimed twice")):
        compose(parts)


def test_a_kind_minifin_already_handles_cannot_be_claimed_again():
    extra = Contributions(name="extra", job_handlers=(("gateway.template_message", _handler),))

    with pytest.raises(RuntimeError, match=re.escape("job kind 'gateway.template_message'")):
        compose((*CONTRIBUTIONS, extra))


def test_a_capability_listed_twice_stops_the_composition():
    with pytest.raises(RuntimeError, match="capability 'gifting' is claimed twice"):
        compose((*CONTRIBUTIONS, next(c for c in CONTRIBUTIONS if c.name == "gifting")))
