"""The seam between apps: an app hands work downstream without importing the apps that
build on it (streaming <- ai_processing <- exposure <- api).

The app that emits declares the hook and its payload in its own `hooks.py`; the app that
builds on it subscribes in its `AppConfig.ready()`. A plain registry rather than Django
signals: each hook takes one payload type a type checker sees, a subscriber's exception
reaches the emitter as the direct call's did (the emitter decides what to contain), and a
test reads who subscribed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")
Payload = TypeVar("Payload")


class Registry(Generic[Item]):
    """Things another app adds for this one to run, kept in the order they were added."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: list[Item] = []

    def add(self, item: Item) -> Item:
        """Adding the same item again changes nothing (ready() may run more than once)."""
        if item not in self._items:
            self._items.append(item)
        return item

    def __iter__(self) -> Iterator[Item]:
        return iter(tuple(self._items))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self._items)}>"


class Hook(Generic[Payload]):
    """One hand-off downstream. `emit` runs every subscriber in the emitter's thread, in the
    order they subscribed. An exception propagates to the emitter and the later subscribers
    do not run: exactly what the one direct call it replaces did."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.subscribers: Registry[Callable[[Payload], None]] = Registry(name)

    def subscribe(self, subscriber: Callable[[Payload], None]) -> Callable[[Payload], None]:
        return self.subscribers.add(subscriber)

    def emit(self, payload: Payload) -> None:
        for subscriber in self.subscribers:
            subscriber(payload)

    def __repr__(self) -> str:
        return f"<Hook {self.name!r}: {list(self.subscribers)}>"
