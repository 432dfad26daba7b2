"""Parts of a version: ``get_local_copy(part=, num_parts=)``, disjoint, covering, balanced."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import ConfigError
from dsops.manifest import part_numbers, select_part
from tests.cache_race_worker import CountingStore
from tests.helpers import snapshot, write_tree


class RequestCountingStore(CountingStore):
    """Counts content bytes (as :class:`CountingStore`) and the keys of content reads."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.content_reads: list[tuple[str, int, int]] = []

    def get_range(self, key: str, start: int, end: int) -> bytes:
        if key.startswith(("packs/", "objects/")):
            self.content_reads.append((key, start, end))
        return super().get_range(key, start, end)

    def get_file(self, key: str, path: Path) -> None:
        self.content_reads.append((key, 0, -1))
        super().get_file(key, path)


def _table(sizes: list[int]) -> pa.Table:
    return pa.table(
        {"path": [f"f{i:05d}" for i in range(len(sizes))], "size": pa.array(sizes, pa.int64())}
    )


def _check_split(sizes: list[int], n: int) -> None:
    table = _table(sizes)
    parts = [select_part(table, k, n) for k in range(n)]
    paths = [p.column("path").to_pylist() for p in parts]
    every = [p for chunk in paths for p in chunk]
    assert every == table.column("path").to_pylist()  # disjoint, covering, in order
    total, biggest = sum(sizes), max(sizes, default=0)
    for part in parts:
        got = sum(part.column("size").to_pylist())
        assert abs(got * n - total) <= biggest * n, (got, total / n, biggest)


def test_parts_are_disjoint_cover_the_rows_and_balance_within_one_file() -> None:
    rng = random.Random(11)
    for _ in range(300):
        count = rng.randint(0, 60)
        top = rng.choice([1, 100, 10**9])
        sizes = [rng.choice([0, rng.randint(0, top)]) for _ in range(count)]
        _check_split(sizes, rng.randint(1, 12))


def test_parts_balance_a_seeded_random_manifest_of_many_files() -> None:
    rng = random.Random(7)
    sizes = [rng.choice([0, rng.randint(1, 100), rng.randint(1, 5_000_000)]) for _ in range(5000)]
    for n in (1, 2, 3, 7, 64, 6000):
        _check_split(sizes, n)


def test_only_empty_files_are_split_by_count() -> None:
    assert part_numbers(_table([0] * 6), 3).to_pylist() == [0, 0, 1, 1, 2, 2]


def test_split_is_by_path_order_whatever_the_row_order() -> None:
    table = _table([5, 1, 9, 3, 7])
    shuffled = table.take([3, 0, 4, 2, 1])
    for k in range(3):
        assert select_part(shuffled, k, 3).equals(select_part(table, k, 3))


def test_split_rule_is_the_documented_formula() -> None:
    sizes = [3, 0, 10, 4, 4, 1, 20, 0]  # the trailing empty file is at byte 42 of 42
    before = [sum(sizes[:i]) for i in range(len(sizes))]
    expected = [min(b * 4 // sum(sizes), 3) for b in before]
    assert part_numbers(_table(sizes), 4).to_pylist() == expected == [0, 0, 0, 1, 1, 2, 2, 3]


@pytest.fixture
def counting(tmp_path: Path) -> tuple[Store, RequestCountingStore, str, dict[str, bytes]]:
    """A version of 120 files of random sizes (several packs and two large objects)."""
    rng = random.Random(3)
    files = {f"d{i % 4}/f{i:03d}.bin": rng.randbytes(rng.randint(0, 200_000)) for i in range(120)}
    files["big/a.bin"] = rng.randbytes(5 * 1024 * 1024)
    files["big/b.bin"] = rng.randbytes(4 * 1024 * 1024 + 3)
    write_tree(tmp_path / "src", files)
    writer = Store(str(tmp_path / "store"), cache_dir=tmp_path / "wcache")
    first = Dataset.create("demo", "parts", store=writer)
    first.add_files(tmp_path / "src")
    # A child that changes every third file: its rows alternate between the first
    # version's packs (now with holes of stale bytes) and the child's own.
    for i, path in enumerate(sorted(files)):
        if i % 3 == 0:
            files[path] = rng.randbytes(rng.randint(1, 150_000))
    write_tree(tmp_path / "src", files)
    ds = Dataset.create("demo", "parts", parents=[first.finalize()], store=writer)
    ds.sync_folder(tmp_path / "src")
    version_id = ds.finalize()
    backend = RequestCountingStore(str(tmp_path / "store"))
    reader = Store(cache_dir=tmp_path / "rcache", backend=backend)
    return reader, backend, version_id, files


@pytest.mark.parametrize("n", [1, 3, 5])
def test_each_part_fetches_only_its_own_bytes_and_the_parts_make_the_version(
    counting: tuple[Store, RequestCountingStore, str, dict[str, bytes]], n: int
) -> None:
    reader, _, version_id, files = counting
    ds = Dataset.get(version_id, store=reader)
    seen: dict[str, bytes] = {}
    for k in range(n):
        CountingStore.read_bytes = 0
        folder = ds.get_local_copy(part=k, num_parts=n)
        got = snapshot(folder)
        assert not set(got) & set(seen)  # disjoint
        seen.update(got)
        # Exactly its files' bytes: nothing of a neighbouring part is read and dropped.
        assert CountingStore.read_bytes == sum(len(v) for v in got.values())
    assert seen == files


def test_a_part_shares_no_cache_view_with_the_whole_version_or_other_parts(
    counting: tuple[Store, RequestCountingStore, str, dict[str, bytes]],
) -> None:
    reader, _, version_id, files = counting
    ds = Dataset.get(version_id, store=reader)
    folders = {ds.get_local_copy(part=k, num_parts=2) for k in range(2)}
    folders |= {ds.get_local_copy(part=0, num_parts=3), ds.get_local_copy()}
    assert len(folders) == 4
    assert snapshot(ds.get_local_copy()) == files
    # A part fetched again is served from its view: no content read.
    CountingStore.read_bytes = 0
    assert ds.get_local_copy(part=1, num_parts=2) in folders
    assert CountingStore.read_bytes == 0


def test_mutable_part_copy_and_include_combine(
    counting: tuple[Store, RequestCountingStore, str, dict[str, bytes]], tmp_path: Path
) -> None:
    reader, _, version_id, files = counting
    ds = Dataset.get(version_id, store=reader)
    selected = {p: b for p, b in files.items() if p.startswith("d1/")}
    union: dict[str, bytes] = {}
    for k in range(3):
        CountingStore.read_bytes = 0
        target = tmp_path / f"copy{k}"
        ds.get_mutable_local_copy(target, include="d1/*", part=k, num_parts=3)
        got = snapshot(target)
        assert CountingStore.read_bytes == sum(len(v) for v in got.values())
        assert not set(got) & set(union)
        union.update(got)
        assert snapshot(ds.get_local_copy("d1/*", part=k, num_parts=3)) == got
    assert union == selected


_SPLIT_SCRIPT = """
import json, sys
from dsops import Dataset, Store
from dsops.manifest import select_part
ds = Dataset.get(sys.argv[1], store=Store(sys.argv[2], cache_dir=sys.argv[3]))
print(json.dumps([select_part(ds.manifest(), k, 4).column("path").to_pylist() for k in range(4)]))
"""


def test_split_is_the_same_in_another_process(
    counting: tuple[Store, RequestCountingStore, str, dict[str, bytes]], tmp_path: Path
) -> None:
    reader, _, version_id, _ = counting
    ds = Dataset.get(version_id, store=reader)
    here = [select_part(ds.manifest(), k, 4).column("path").to_pylist() for k in range(4)]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _SPLIT_SCRIPT,
            version_id,
            str(tmp_path / "store"),
            str(tmp_path / "c2"),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert json.loads(out.stdout) == here


@pytest.mark.parametrize(
    ("part", "num_parts"),
    [(0, None), (None, 2), (0, 0), (2, 2), (-1, 3), (5, 3), (True, 2)],
)
def test_bad_part_arguments_are_refused_before_any_fetch(
    counting: tuple[Store, RequestCountingStore, str, dict[str, bytes]],
    tmp_path: Path,
    part: int | None,
    num_parts: int | None,
) -> None:
    reader, backend, version_id, _ = counting
    ds = Dataset.get(version_id, store=reader)
    backend.content_reads.clear()
    with pytest.raises(ConfigError, match="part"):
        ds.get_local_copy(part=part, num_parts=num_parts)
    with pytest.raises(ConfigError, match="part"):
        ds.get_mutable_local_copy(tmp_path / "t", part=part, num_parts=num_parts)
    assert backend.content_reads == []
    assert not (tmp_path / "t").exists()
    assert not (tmp_path / "rcache" / "views").exists()


def test_cli_get_part(
    counting: tuple[Store, RequestCountingStore, str, dict[str, bytes]],
    tmp_path: Path,
    cli_runner: CliRunner,
) -> None:
    _, _, version_id, files = counting
    runner = cli_runner
    union: dict[str, bytes] = {}
    for k in range(2):
        result = runner.invoke(
            cli, ["get", version_id, "--part", str(k), "--num-parts", "2", "--json"]
        )
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert (doc["part"], doc["num_parts"]) == (k, 2)
        union.update(snapshot(doc["path"]))
    assert union == files
    result = runner.invoke(
        cli, ["get", version_id, "--to", str(tmp_path / "m"), "--part", "1", "--num-parts", "2"]
    )
    assert result.exit_code == 0, result.output
    assert set(snapshot(tmp_path / "m")) < set(files)
    bad = runner.invoke(cli, ["get", version_id, "--part", "2", "--num-parts", "2"])
    assert bad.exit_code == 1
    assert "num_parts" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
