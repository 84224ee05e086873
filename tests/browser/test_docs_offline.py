"""`/docs` in headless Chromium with the network cut off: every request that is not to the
loopback address is refused, and the page still renders every operation, since Swagger UI's
files come from Minifin itself (the flask-swagger-ui package installed with it)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.live_server import LiveServer, served_minifin

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture
def minifin(app, app_env) -> Iterator[LiveServer]:
    with served_minifin(app_env) as live:
        yield live


def test_the_docs_render_every_operation_with_the_network_cut_off(page, minifin):
    refused: list[str] = []

    def offline(route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", offline)
    spec = httpx.get(f"{minifin.url}/openapi.json").json()
    operations = sum(
        method in {"get", "post", "put", "patch", "delete"}
        for item in spec["paths"].values() for method in item
    )  # fmt: skip

    page.goto(f"{minifin.url}/docs")
    page.locator(".opblock").nth(operations - 1).wait_for(timeout=20000)

    assert page.locator(".opblock").count() == operations
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(path.replace("\u200b", "") == "/v1/gifts" for path in paths)
    assert page.locator(".info .title").inner_text().startswith("Minifin")
    assert refused == []
