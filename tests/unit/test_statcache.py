"""The stat cache is shared by every process and thread on the machine."""

from __future__ import annotations

import threading
from pathlib import Path

from dsops.hashing import StatCache


def test_concurrent_first_use_from_many_connections_never_fails(tmp_path: Path) -> None:
    for trial in range(10):
        path = tmp_path / f"t{trial}" / "stat.sqlite"
        errors: list[BaseException] = []

        def use(i: int, path: Path = path, errors: list[BaseException] = errors) -> None:
            try:
                cache = StatCache(path)
                cache.lookup([(1, 2, 3, 4)], "blake3")
                cache.store([((1, 2, 3, i), f"h{i}")], "blake3")
                cache.close()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=use, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        keys = [(1, 2, 3, i) for i in range(6)]
        assert StatCache(path).lookup(keys, "blake3") == [f"h{i}" for i in range(6)]


def test_a_hit_needs_every_stat_field_and_the_algorithm(tmp_path: Path) -> None:
    cache = StatCache(tmp_path / "s.sqlite")
    cache.store([((1, 2, 3, 4), "abc")], "blake3")
    assert cache.lookup([(1, 2, 3, 4), (1, 2, 3, 5), (9, 2, 3, 4)], "blake3") == ["abc", None, None]
    assert cache.lookup([(1, 2, 3, 4)], "sha256") == [None]
