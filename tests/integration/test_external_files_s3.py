"""External files on a real S3 server (SeaweedFS): an s3:// link source in another bucket."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store
from dsops.errors import ExternalSourceChanged
from tests.helpers import snapshot

pytestmark = pytest.mark.s3


def test_s3_links_fetch_through_the_cache_and_refuse_a_changed_source(
    s3_server: Any, tmp_path: Path
) -> None:
    landing = s3_server.new_bucket()
    big = os.urandom(9 * 1024 * 1024 + 3)  # more than one ranged read of the link reader
    source = {"day/a.csv": b"x,y\n1,2\n", "day/img/big.bin": big, "other/skip.txt": b"no"}
    for key, body in source.items():
        s3_server.client.put_object(Bucket=landing, Key=key, Body=body)
    store = Store(
        f"s3://{s3_server.new_bucket()}/data", cache_dir=tmp_path / "cache", **s3_server.options
    )
    ds = Dataset.create(project="s3", name="links", store=store)
    summary = ds.add_external_files(f"s3://{landing}/day", "raw")  # the store's credentials
    assert (summary.added, summary.uploaded_bytes) == (2, 0)
    version_id = ds.finalize()
    data_keys = [k for k in store.backend.list_keys("") if k.startswith(("packs/", "objects/"))]
    assert data_keys == []  # no byte of the links was stored

    other = Store(store.url, cache_dir=tmp_path / "c2", **s3_server.options)
    fetched = Dataset.get(version_id, store=other)
    expected = {"raw/a.csv": b"x,y\n1,2\n", "raw/img/big.bin": big}
    assert snapshot(fetched.get_local_copy()) == expected
    assert fetched.verify(deep=True)

    child = Dataset.create(project="s3", name="links", parents=[version_id], store=store)
    child.remove_files("raw/a.csv")
    child.finalize()
    assert child.list_files() == ["raw/img/big.bin"]

    s3_server.client.put_object(Bucket=landing, Key="day/a.csv", Body=b"x,y\n3,4\n")
    cold_store = Store(store.url, cache_dir=tmp_path / "c3", **s3_server.options)
    cold = Dataset.get(version_id, store=cold_store)
    with pytest.raises(ExternalSourceChanged, match=f"s3://{landing}/day/a.csv"):
        cold.get_local_copy()
    assert not fetched.verify()  # the HEAD sees the new ETag
    # The child no longer has that file: it still fetches in full.
    child_copy = Dataset.get(child.id, store=cold_store).get_local_copy()
    assert snapshot(child_copy) == {"raw/img/big.bin": big}
