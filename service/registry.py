"""Name → handler tables that capabilities fill at import time (job kinds, notification types)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

H = TypeVar("H", bound=Callable)


class HandlerRegistry(dict[str, H], Generic[H]):
    """A dict of handlers with a decorator that refuses to register a name twice."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, name: str) -> Callable[[H], H]:
        """Decorator: `@registry.register("name")`."""

        def decorator(handler: H) -> H:
            if name in self and self[name] is not handler:
                raise RuntimeError(f"a handler for {self.what} {name!r} is already registered")
            self[name] = handler
            return handler

        return decorator
