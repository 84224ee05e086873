"""`GET /metrics`: Prometheus text format, for operators' scrapers (not part of the public API).

The collectors are the capabilities' (declared in their contributions, joined by
service/bootstrap.py); `install()` gives each app its own registry of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

blp = Blueprint("metrics", __name__)
_EXTENSION = "minifin_metrics"


def install(app: Flask, collectors: Iterable[Callable[[], Collector]]) -> None:
    """Give `app` a registry with one of each collector, read by `/metrics`."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector())
    app.extensions[_EXTENSION] = registry


@blp.get("/metrics")
def metrics() -> Response:
    """Every Minifin gauge, read from the database at scrape time."""
    # content_type, not mimetype: Flask would add a second `charset` to one that has it already.
    registry = current_app.extensions[_EXTENSION]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
