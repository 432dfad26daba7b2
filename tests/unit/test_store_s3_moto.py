"""S3Store against moto: the conformance suite over real HTTP, plus error mapping."""

from __future__ import annotations

import pickle
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from dsops.errors import (
    AccessDenied,
    ConfigError,
    ObjectExists,
    ObjectNotFound,
    StoreUnavailable,
)
from dsops.storage import open_store
from dsops.storage.s3 import MiB, S3Store
from tests.moto_s3 import KEYS, moto_server, new_bucket, raw_client
from tests.store_conformance import StoreConformance

moto_endpoint = pytest.fixture(scope="module", name="moto_endpoint")(moto_server)


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    return new_bucket(moto_endpoint)


class TestS3StoreOnMoto(StoreConformance):
    @pytest.fixture
    def store(self, moto_endpoint: str, bucket: str) -> Iterator[S3Store]:
        store = S3Store(f"s3://{bucket}/root/sub", endpoint_url=moto_endpoint, **KEYS)
        yield store
        store.close()


# --- URL, construction, configuration ----------------------------------------------------


def test_open_store_maps_s3_urls_to_s3store_without_touching_the_network() -> None:
    store = open_store("s3://bucket/a/b/", endpoint_url="http://127.0.0.1:9", **KEYS)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.url) == ("bucket", "a/b", "s3://bucket/a/b")
    assert store._client is None


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "s3://b/a/../c", "s3://b/p?x=1"])
def test_malformed_s3_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        S3Store(url)


def test_access_key_without_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="access_key and secret_key"):
        S3Store("s3://b", access_key="AKIA")


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown S3 store option"):
        S3Store("s3://b", no_such_option=1)


def test_unknown_profile_is_a_config_error_naming_it() -> None:
    store = S3Store("s3://b", profile="dsops-no-such-profile")
    with pytest.raises(ConfigError, match="dsops-no-such-profile"):
        store.get("k")


def test_missing_credentials_are_access_denied_with_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = S3Store("s3://b", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    with pytest.raises(AccessDenied, match="No AWS credentials"):
        store.get("k")


def test_endpoint_from_aws_endpoint_url_s3_is_honoured(
    monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, bucket: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    store = S3Store(f"s3://{bucket}", **KEYS)
    store.put("k", b"v")
    assert store.get("k") == b"v"


def test_a_store_pickles_and_reconnects(moto_endpoint: str, bucket: str) -> None:
    store = S3Store(f"s3://{bucket}/p", endpoint_url=moto_endpoint, **KEYS)
    store.put("k", b"v")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.get("k") == b"v"
    assert copy.url == store.url


def test_keys_without_a_prefix_sit_at_the_bucket_root(moto_endpoint: str, bucket: str) -> None:
    store = S3Store(f"s3://{bucket}", endpoint_url=moto_endpoint, **KEYS)
    store.put("a/b", b"1")
    raw = raw_client(moto_endpoint)
    assert raw.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"1"
    assert store.list_keys() == ["a/b"]


def test_prefix_isolates_stores_in_one_bucket(moto_endpoint: str, bucket: str) -> None:
    a = S3Store(f"s3://{bucket}/team-a", endpoint_url=moto_endpoint, **KEYS)
    b = S3Store(f"s3://{bucket}/team-ab", endpoint_url=moto_endpoint, **KEYS)
    a.put("x", b"a")
    b.put("x", b"b")
    assert a.list_keys() == ["x"]
    assert a.get("x") == b"a"
    assert b.get("x") == b"b"


# --- error mapping ------------------------------------------------------------------------


def test_missing_bucket_is_store_unavailable_naming_it_for_every_primitive(
    moto_endpoint: str,
) -> None:
    store = S3Store("s3://dsops-no-such-bucket/p", endpoint_url=moto_endpoint, **KEYS)
    calls = [
        lambda: store.get("k"),
        lambda: store.head("k"),
        lambda: store.exists("k"),
        lambda: store.put("k", b"x"),
        lambda: store.list_keys(),
        lambda: store.get_range("k", 0, 1),
    ]
    for call in calls:
        with pytest.raises(StoreUnavailable, match=r"'dsops-no-such-bucket'.*create it or check"):
            call()


def test_unreachable_endpoint_is_store_unavailable_naming_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: refused
    endpoint = f"http://127.0.0.1:{port}"
    store = S3Store("s3://b", endpoint_url=endpoint, connect_timeout=0.5, max_attempts=2, **KEYS)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=f"Cannot reach the S3 endpoint {endpoint}"):
        store.get("k")
    assert time.monotonic() - started < 10


def test_a_server_that_never_answers_is_store_unavailable_after_the_read_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # and never answer
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    store = S3Store("s3://b", endpoint_url=endpoint, read_timeout=0.3, max_attempts=2, **KEYS)
    try:
        with pytest.raises(StoreUnavailable, match="ReadTimeoutError"):
            store.head("k")
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def _user_without_permissions() -> dict[str, str]:
    """Inside moto with authentication on: keys of a user with no policy, and a bucket."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="guarded")
    return {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}


@pytest.mark.parametrize(
    ("credentials", "hint"),
    [
        ("unknown-key", "access key id is unknown"),
        ("wrong-secret", "secret key does not match"),
        ("no-permission", "allow s3:GetObject"),
    ],
)
@set_initial_no_auth_action_count(3)  # the three setup calls run unauthenticated
@mock_aws
def test_bad_credentials_are_access_denied_never_not_found(credentials: str, hint: str) -> None:
    keys = _user_without_permissions()
    if credentials == "unknown-key":
        keys = {"access_key": "AKIAUNKNOWN000000000", "secret_key": "x"}
    elif credentials == "wrong-secret":
        keys["secret_key"] = "wrong"
    store = S3Store("s3://guarded/p", region="us-east-1", **keys)
    for call in (lambda: store.get("k"), lambda: store.exists("k"), lambda: store.put("k", b"")):
        with pytest.raises(AccessDenied, match=hint) as info:
            call()
        assert "s3://guarded/p/k" in str(info.value)
        assert not isinstance(info.value, ObjectNotFound)


# --- transfers and counters ----------------------------------------------------------------


@pytest.fixture
def small_parts_store(moto_endpoint: str, bucket: str) -> S3Store:
    return S3Store(
        f"s3://{bucket}/files",
        endpoint_url=moto_endpoint,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        **KEYS,
    )


def test_large_files_upload_in_parts_and_download_intact(
    small_parts_store: S3Store, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    payload = bytes(range(256)) * (11 * MiB // 256) + b"tail"
    src.write_bytes(payload)
    etag = small_parts_store.put_file("big", src)
    assert etag.endswith("-3")  # three parts of ≤ 5 MiB
    assert small_parts_store.head("big").etag == etag
    dst = tmp_path / "back.bin"
    small_parts_store.get_file("big", dst)
    assert dst.read_bytes() == payload
    assert (
        small_parts_store.get_range("big", 5 * MiB - 2, 5 * MiB + 2)
        == payload[5 * MiB - 2 : 5 * MiB + 2]
    )


def test_multipart_create_only_upload_refuses_an_existing_key(
    small_parts_store: S3Store, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * (6 * MiB))
    small_parts_store.put("big", b"first")
    with pytest.raises(ObjectExists):
        small_parts_store._upload_file("big", src, create_only=True)
    assert small_parts_store.get("big") == b"first"
    assert (
        small_parts_store.client.list_multipart_uploads(Bucket=small_parts_store.bucket).get(
            "Uploads", []
        )
        == []
    )  # the refused upload was aborted


def test_large_bytes_are_created_in_parts_and_create_only(
    small_parts_store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A manifest of ~100M files passes 5 GB, the most a single PUT takes: bytes past
    # 4 GiB (here 10 MiB) go up in parts, still create-only.
    monkeypatch.setattr("dsops.storage.s3._MAX_SINGLE_PUT", 10 * MiB)
    payload = bytes(range(256)) * (11 * MiB // 256) + b"tail"
    etag = small_parts_store.put_if_absent("manifest", payload)
    assert etag.endswith("-3") and small_parts_store.head("manifest").etag == etag
    assert small_parts_store.get("manifest") == payload
    assert small_parts_store.put_if_absent("small", payload[: 9 * MiB])  # one PUT
    assert not small_parts_store.head("small").etag.endswith("-2")
    with pytest.raises(ObjectExists):
        small_parts_store.put_if_absent("manifest", payload[:-1] + b"X")
    assert small_parts_store.get("manifest") == payload
    uploads = small_parts_store.client.list_multipart_uploads(Bucket=small_parts_store.bucket)
    assert uploads.get("Uploads", []) == []  # the refused upload was aborted


def test_get_file_of_a_missing_key_is_not_found(small_parts_store: S3Store, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        small_parts_store.get_file("nope", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_stats_count_requests_by_kind_and_payload_bytes(moto_endpoint: str, bucket: str) -> None:
    store = S3Store(f"s3://{bucket}", endpoint_url=moto_endpoint, **KEYS)
    store.put("a", b"12345")
    store.put_if_absent("b", b"123")
    assert store.get("a") == b"12345"
    store.head("a")
    store.list_keys()
    store.delete("a")
    stats = store.stats
    assert (stats["PUT"], stats["GET"], stats["HEAD"], stats["LIST"], stats["DELETE"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert stats["requests"] == 6
    assert stats["attempts"] == 6  # nothing was retried
    assert stats["bytes_sent"] == 8
    assert stats["bytes_received"] == 5
    store.reset_stats()
    assert store.stats["requests"] == 0


# --- lost replies: a retried conditional write meets its own first attempt ---------------


def test_a_retried_write_whose_first_reply_was_lost_is_recognised_as_our_own(
    moto_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    from dsops import Dataset, Store
    from tests.faults import LostReplies
    from tests.helpers import snapshot, write_tree

    backend = S3Store(f"s3://{bucket}/lost", endpoint_url=moto_endpoint, **KEYS)
    lost = LostReplies(backend.client)
    store = Store(backend=backend, cache_dir=tmp_path / "cache")
    assert backend.put_if_absent("once", b"mine")  # not ObjectExists: it was our write
    etag = backend.head("once").etag
    backend.put_if_match("once", b"mine, again", etag)
    with pytest.raises(ObjectExists):
        backend.put_if_absent("once", b"someone else's")  # a real conflict still is one

    ds = Dataset.create(project="p", name="lost", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"a.txt": "1", "b/c.txt": "2"}))
    first = ds.finalize(alias="prod")
    child = Dataset.create(project="p", name="lost", parents=[first], store=store)
    child.add_files(write_tree(tmp_path / "src2", {"d.txt": "3"}))
    child.finalize()
    assert child.set_alias("prod") == first  # the real previous target, not itself
    assert Dataset.get("p/lost@prod", store=store).id == child.id
    assert Dataset.get("p/lost@latest", store=store).version == "1.0.1"
    fresh = Store(backend=backend, cache_dir=tmp_path / "fresh")
    assert snapshot(Dataset.get(child.id, store=fresh).get_local_copy()) == {
        "a.txt": b"1",
        "b/c.txt": b"2",
        "d.txt": b"3",
    }
    assert lost.lost >= 10, lost.lost
