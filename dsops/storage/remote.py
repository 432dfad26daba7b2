"""What the network backends share: request counters, and pickling without connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from dsops.storage.stats import RequestStats


class RemoteStoreMixin:
    """Counters as ``store.stats``, and a lock guarding lazily created connections.

    A subclass names in ``_connections`` the attributes holding live clients: they start
    as None, are left out when the store is pickled (Airflow and Prefect ship stores
    between processes), and are created again on first use in the new process.
    """

    _connections: tuple[str, ...] = ()

    def _init_remote(self) -> None:
        self._lock = threading.Lock()
        self._stats = RequestStats()
        for name in self._connections:
            setattr(self, name, None)

    def _connection(self, name: str, create: Callable[[], Any]) -> Any:
        """The live client in attribute ``name``, created by ``create`` on first use."""
        value = getattr(self, name)
        if value is None:
            with self._lock:
                value = getattr(self, name)
                if value is None:
                    value = create()
                    setattr(self, name, value)
        return value

    @property
    def stats(self) -> dict[str, int]:
        """Requests by kind (PUT, GET, LIST, HEAD, DELETE, POST), attempts and bytes.

        A snapshot; call :meth:`reset_stats` to start counting from zero.
        """
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self._stats.reset()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_lock", "_stats", *self._connections):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_remote()
