"""The tasks against a real S3 server (SeaweedFS), configured through a saved block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from dsops import Dataset
from prefect_tasks import (
    EVENT_FINALIZED,
    DsopsStore,
    add_files,
    create_dataset,
    dataset_resource_id,
    fetch_dataset,
    finalize_dataset,
    sync_folder,
)
from tests.helpers import random_tree, snapshot
from tests.prefect.helpers import read_events

pytestmark = pytest.mark.s3


def test_flows_on_s3_through_a_saved_block(s3_server: Any, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    block = DsopsStore(
        url=f"s3://{bucket}/datasets",
        endpoint_url=s3_server.endpoint,
        region=s3_server.region,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
    )
    block.save("pytest-seaweedfs", overwrite=True)
    shards = [tmp_path / f"shard{n}" for n in range(3)]
    files = [random_tree(shard, 40, seed=n) for n, shard in enumerate(shards)]
    mirror = tmp_path / "mirror"
    random_tree(mirror, 25, seed=9)
    landing = s3_server.new_bucket()  # a URL source, read with the block's credentials
    s3_server.client.put_object(Bucket=landing, Key="day-1/new.csv", Body=b"a,b\n1,2\n")

    @flow
    def on_s3() -> tuple[str, str, str]:
        draft = create_dataset("s3demo", "shards", store="pytest-seaweedfs")
        added = add_files.map(
            draft,
            [str(s) for s in shards],
            dataset_path=[s.name for s in shards],
            store="pytest-seaweedfs",
        )
        first = finalize_dataset(draft, alias="prod", store="pytest-seaweedfs", wait_for=added)
        child = create_dataset("s3demo", "shards", parents=[first], store=block)
        child = sync_folder(child, str(mirror), dataset_path="shard0", store=block)
        child = add_files(child, f"s3://{landing}/day-1/", "landed", store="pytest-seaweedfs")
        second = finalize_dataset(child, store=block)
        copy = fetch_dataset(second, target_dir=str(tmp_path / "copy"), store="pytest-seaweedfs")
        return first, second, copy

    first, second, copy = on_s3()

    listed = s3_server.client.list_objects_v2(Bucket=bucket, Prefix="datasets/versions/")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
        f"datasets/versions/{v}.json" for v in (first, second)
    )
    record = json.loads(
        s3_server.client.get_object(Bucket=bucket, Key=f"datasets/versions/{second}.json")[
            "Body"
        ].read()
    )
    assert record["parents"] == [first] and record["provenance"]["flow_name"] == "on-s3"

    expected = {f"shard{n}/{k}": v for n in range(3) for k, v in files[n].items()}
    store = block.get_store()
    assert snapshot(Dataset.get(first, store=store).get_local_copy()) == expected
    expected = {k: v for k, v in expected.items() if not k.startswith("shard0/")}
    expected.update({f"shard0/{k}": v for k, v in snapshot(mirror).items()})
    expected["landed/new.csv"] = b"a,b\n1,2\n"
    assert snapshot(copy) == expected
    assert Dataset.get("s3demo/shards@prod", store=store).id == first

    events = read_events(EVENT_FINALIZED, dataset_resource_id("s3demo", "shards"), expected=2)
    assert {e.payload["store"] for e in events} == {f"s3://{bucket}/datasets"}
