"""Stores under injected faults: retries absorb them, or the error says what happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ResponseStreamingError
from botocore.retries.standard import ExponentialBackoff

from dsops.errors import ObjectExists, StoreError, StoreUnavailable
from dsops.storage import LocalStore
from dsops.storage.s3 import S3Store
from tests.faults import FaultyStore, exercise_store
from tests.moto_s3 import KEYS, moto_server, new_bucket
from tests.store_conformance import StoreConformance

moto_endpoint = pytest.fixture(scope="module", name="moto_endpoint")(moto_server)


@pytest.fixture
def s3_store(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Store]:
    # Retries keep their count and order; only the sleeps between them go (test speed).
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    bucket = new_bucket(moto_endpoint)
    store = S3Store(f"s3://{bucket}/p", endpoint_url=moto_endpoint, max_attempts=8, **KEYS)
    yield store
    store.close()


def test_s3_operations_succeed_through_retries_at_a_30_percent_fault_rate(
    s3_store: S3Store, tmp_path: Path
) -> None:
    faulty = FaultyStore(s3_store, failure_rate=0.3, seed=7, layer="http")
    exercise_store(faulty, tmp_path)
    stats = s3_store.stats
    assert sum(faulty.plan.injected.values()) > 10
    assert set(faulty.plan.injected) == {"500", "503", "timeout", "reset"}
    # Every injected fault cost one extra attempt, and nothing else did.
    assert stats["attempts"] - stats["requests"] == sum(faulty.plan.injected.values())


def test_same_seed_injects_the_same_faults(s3_store: S3Store, tmp_path: Path) -> None:
    runs = []
    for run in range(2):
        fresh = S3Store(f"{s3_store.url}/run{run}", endpoint_url=s3_store.endpoint_url, **KEYS)
        faulty = FaultyStore(fresh, failure_rate=0.3, seed=11, layer="http")
        exercise_store(faulty, tmp_path)
        runs.append(dict(faulty.plan.injected))
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("500", StoreError, r"InternalError \(HTTP 500\)"),
        ("503", StoreUnavailable, "unavailable or throttling"),
        ("timeout", StoreUnavailable, "Cannot reach the S3 endpoint .*ReadTimeoutError"),
        ("reset", StoreUnavailable, "Cannot reach the S3 endpoint .*ConnectionClosedError"),
    ],
)
def test_s3_gives_up_after_max_attempts_with_a_clear_error(
    s3_store: S3Store, fault: str, error: type[Exception], message: str
) -> None:
    s3_store.put("k", b"v")
    faulty = FaultyStore(s3_store, failure_rate=1.0, seed=1, layer="http", faults=[fault])
    s3_store.reset_stats()
    with pytest.raises(error, match=message):
        faulty.get("k")
    assert s3_store.stats["attempts"] == 8, s3_store.stats


def test_a_body_cut_mid_stream_is_read_again(s3_store: S3Store) -> None:
    s3_store.put("k", b"payload")
    real_get = s3_store.client.get_object
    cuts = [1]

    def get_object(**kwargs: Any) -> Any:
        response = real_get(**kwargs)
        if cuts:
            cuts.pop()

            def broken_read(*_: Any) -> bytes:
                raise ResponseStreamingError(error="connection reset mid-body")

            response["Body"].read = broken_read
        return response

    s3_store.client.get_object = get_object
    assert s3_store.get("k") == b"payload"
    assert s3_store.stats["GET"] == 2


class TestFaultyStoreAtRateZeroIsTransparent(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> FaultyStore:
        return FaultyStore(LocalStore(tmp_path / "s"), failure_rate=0.0, seed=0)


def test_store_layer_faults_follow_the_seed(tmp_path: Path) -> None:
    def outcomes(seed: int) -> list[str]:
        faulty = FaultyStore(LocalStore(tmp_path / f"s{seed}"), failure_rate=0.5, seed=seed)
        seen = []
        for i in range(40):
            try:
                faulty.put(f"k{i}", b"x")
                seen.append("ok")
            except StoreError as exc:
                seen.append(type(exc).__name__)
        return seen

    first = outcomes(3)
    assert first == outcomes(3)
    assert 10 < first.count("ok") < 30
    assert {"StoreError", "StoreUnavailable"} <= set(first)


def test_a_lost_response_leaves_the_write_done_so_a_retry_sees_it_exists(
    tmp_path: Path,
) -> None:
    inner = LocalStore(tmp_path / "s")
    faulty = FaultyStore(inner, failure_rate=1.0, seed=0, faults=["lost_response"])
    with pytest.raises(StoreUnavailable, match="injected"):
        faulty.put_if_absent("versions/v1.json", b"record")
    assert inner.get("versions/v1.json") == b"record"
    with pytest.raises(ObjectExists):
        inner.put_if_absent("versions/v1.json", b"record")


def test_only_selected_kinds_fail(tmp_path: Path) -> None:
    faulty = FaultyStore(LocalStore(tmp_path / "s"), failure_rate=1.0, seed=0, kinds=["GET"])
    faulty.put("k", b"v")
    assert faulty.exists("k")
    with pytest.raises(StoreError):
        faulty.get("k")
