"""Handler registries refuse a second, different handler for the same name."""

from __future__ import annotations

import pytest

from service.registry import HandlerRegistry


def test_a_name_is_registered_once_and_may_be_registered_again_by_the_same_handler():
    registry: HandlerRegistry = HandlerRegistry("job kind")

    @registry.register("send")
    def send(job):
        return job

    assert registry.register("send")(send) is send
    assert registry["send"] is send
    with pytest.raises(RuntimeError, match="job kind 'send' is already registered"):
        registry.register("send")(lambda job: None)
