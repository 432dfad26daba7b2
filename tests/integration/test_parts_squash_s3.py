"""Parts and squash on a real S3 server (SeaweedFS): bytes read per part, bytes copied."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store
from dsops.storage.s3 import S3Store
from tests.helpers import snapshot, write_tree

pytestmark = pytest.mark.s3


class KeyRecordingS3Store(S3Store):
    """An S3Store that records the key of every write (to tell content from metadata)."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self.written: list[str] = []

    def put(self, key: str, data: bytes) -> str:
        self.written.append(key)
        return super().put(key, data)

    def put_if_absent(self, key: str, data: bytes) -> str:
        self.written.append(key)
        return super().put_if_absent(key, data)

    def put_file(self, key: str, path: Path) -> str:
        self.written.append(key)
        return super().put_file(key, path)

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        self.written.append(key)
        return super().put_file_if_absent(key, path)


def test_parts_on_s3_each_read_only_their_own_bytes(s3_server: Any, tmp_path: Path) -> None:
    url = f"s3://{s3_server.new_bucket()}/data"
    writer = Store(url, cache_dir=tmp_path / "wcache", **s3_server.options)
    rng = random.Random(5)
    files = {f"s{i % 5}/f{i:03d}.bin": rng.randbytes(rng.randint(0, 60_000)) for i in range(150)}
    files["large.bin"] = rng.randbytes(4 * 1024 * 1024 + 17)
    write_tree(tmp_path / "src", files)
    ds = Dataset.create("s3", "parts", store=writer)
    ds.add_files(tmp_path / "src")
    version_id = ds.finalize()

    union: dict[str, bytes] = {}
    for k in range(4):  # four workers, each on its own machine (cache)
        backend = S3Store(url, **s3_server.options)
        worker = Store(cache_dir=tmp_path / f"worker{k}", backend=backend)
        mine = Dataset.get(version_id, store=worker)
        mine.manifest()  # the manifest is read by every worker; count content only
        backend.reset_stats()
        got = snapshot(mine.get_local_copy(part=k, num_parts=4))
        stats = backend.stats
        print(f"part {k}: {len(got)} files, {stats['bytes_received']} bytes in {stats['GET']} GETs")
        assert stats["bytes_received"] == sum(len(v) for v in got.values())
        assert not set(got) & set(union)
        union.update(got)
        share = sum(len(v) for v in files.values()) / 4
        assert abs(sum(len(v) for v in got.values()) - share) <= max(map(len, files.values()))
    assert union == files


def test_squash_on_s3_copies_no_content_and_reads_back(s3_server: Any, tmp_path: Path) -> None:
    url = f"s3://{s3_server.new_bucket()}/data"
    store = Store(url, cache_dir=tmp_path / "cache", **s3_server.options)
    expected: dict[str, bytes] = {}
    ids = []
    for n in range(3):
        files: dict[str, bytes] = {
            "shared.txt": f"v{n}".encode(),
            f"only{n}.txt": b"x" * (n + 1),
            "big.bin": bytes([n]) * (4 * 1024 * 1024 + n),
        }
        write_tree(tmp_path / f"src{n}", files)
        ds = Dataset.create("s3", "daily", store=store)
        ds.add_files(tmp_path / f"src{n}")
        ids.append(ds.finalize())
        expected.update(files)
    backend = KeyRecordingS3Store(url, **s3_server.options)
    counted = Store(cache_dir=tmp_path / "cache2", backend=backend)
    content = {i.key for i in backend.list("packs/")} | {i.key for i in backend.list("objects/")}
    time.sleep(1.1)  # LastModified has whole seconds: let the renewal show
    started = math.floor(time.time())
    squashed = Dataset.squash("flat", ids, store=counted)
    # Every pack and object it names was renewed (a server-side copy onto itself);
    # content only the overridden files used was not touched.
    named = set(squashed.manifest().column("object").to_pylist()) - {""}
    assert named < content
    assert all(backend.head(k).modified >= started for k in named)
    assert all(backend.head(k).modified < started for k in content - named)
    assert not [k for k in backend.written if k.startswith(("packs/", "objects/"))]
    assert {i.key for i in backend.list("packs/")} | {
        i.key for i in backend.list("objects/")
    } == content
    sent = backend.stats["bytes_sent"]
    assert sent < 64 * 1024  # records, one part, the manifest: no content (12 MiB of it)
    reader = Store(url, cache_dir=tmp_path / "cache3", **s3_server.options)
    again = Dataset.get("s3/flat@latest", store=reader)
    assert again.id == squashed.id and again.parents == []
    assert again.record is not None and again.record.squashed_from == tuple(ids)
    assert snapshot(again.get_local_copy()) == expected
    assert again.verify(deep=True)
