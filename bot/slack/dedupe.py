"""Remember recent Events API ``event_id``s so a redelivered event is answered once.

:class:`SeenEvents` is what the Slack layer needs; :class:`RecentEventIds` is the in-process,
bounded implementation (the most recent ``capacity`` ids): enough for Slack's retries, which come
within minutes, but forgotten on restart and not shared between processes. A database-backed
implementation with the same method can replace it to share the record between workers.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Protocol

logger = logging.getLogger(__name__)

DEFAULT_CAPACITY = 10_000


class SeenEvents(Protocol):
    """The record of event deliveries already taken on."""

    def first_sighting(self, event_id: str) -> bool:
        """Record ``event_id`` atomically; True only for the first caller to record it."""
        ...


class RecentEventIds:
    """A thread-safe, bounded set of the event ids seen most recently."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_sighting(self, event_id: str) -> bool:
        """Remember ``event_id``; True if it was not among the recent ids already."""
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)
