"""S3Store against a real S3 server (SeaweedFS): the conformance suite and server facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dsops.errors import AccessDenied, ObjectExists, ObjectNotFound, StoreUnavailable
from dsops.storage import open_store
from dsops.storage.s3 import MiB, S3Store
from tests.faults import FaultyStore, exercise_store
from tests.s3_server import S3Server
from tests.store_conformance import StoreConformance

pytestmark = pytest.mark.s3


class TestS3StoreOnSeaweedFS(StoreConformance):
    @pytest.fixture
    def store(self, s3_server: S3Server) -> Iterator[S3Store]:
        store = s3_server.new_store("root/sub")
        yield store
        store.close()


def test_open_store_reaches_the_server(s3_server: S3Server, s3_bucket: str) -> None:
    store = open_store(f"s3://{s3_bucket}/p", **s3_server.options)
    store.put("k", b"v")
    assert store.get("k") == b"v"
    assert s3_server.client.get_object(Bucket=s3_bucket, Key="p/k")["Body"].read() == b"v"


def test_missing_bucket_is_store_unavailable_not_not_found(s3_server: S3Server) -> None:
    store = S3Store("s3://dsops-missing-bucket", **s3_server.options)
    for call in (lambda: store.get("k"), lambda: store.exists("k"), lambda: store.put("k", b"")):
        with pytest.raises(StoreUnavailable, match="create it or check the URL"):
            call()


@pytest.mark.parametrize(
    ("access_key", "secret_key", "hint"),
    [
        ("unknown-access-key", "x", "access key id is unknown"),
        ("dsops-test-access", "wrong-secret", "secret key does not match"),
    ],
)
def test_bad_credentials_are_access_denied_even_on_head(
    s3_server: S3Server, s3_bucket: str, access_key: str, secret_key: str, hint: str
) -> None:
    options = {**s3_server.options, "access_key": access_key, "secret_key": secret_key}
    store = S3Store(f"s3://{s3_bucket}", **options)
    with pytest.raises(AccessDenied, match=hint):
        store.get("k")
    # HEAD responses have no body, so no error code: still never "not found".
    with pytest.raises(AccessDenied) as info:
        store.exists("k")
    assert not isinstance(info.value, ObjectNotFound)


def test_multipart_upload_is_create_only_and_round_trips(
    s3_server: S3Server, tmp_path: Path
) -> None:
    store = s3_server.new_store(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    src = tmp_path / "big.bin"
    payload = bytes(range(256)) * (11 * MiB // 256)
    src.write_bytes(payload)
    assert store.put_file_if_absent("big", src) is True
    with pytest.raises(ObjectExists):
        store._upload_file("big", src, create_only=True)  # the If-None-Match on Complete
    dst = tmp_path / "back.bin"
    store.get_file("big", dst)
    assert dst.read_bytes() == payload
    assert store.stats["POST"] >= 4  # two create + two complete (the refused one aborted)


def test_operations_succeed_through_retries_when_a_fifth_of_requests_fail(
    s3_server: S3Server, tmp_path: Path
) -> None:
    store = s3_server.new_store("faulty")
    faulty = FaultyStore(store, failure_rate=0.2, seed=5, faults=["500", "reset"], layer="http")
    exercise_store(faulty, tmp_path)
    assert store.stats["attempts"] - store.stats["requests"] == sum(faulty.plan.injected.values())
    assert sum(faulty.plan.injected.values()) > 5
