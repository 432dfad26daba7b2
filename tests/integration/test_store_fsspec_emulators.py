"""FsspecStore on GCS and Azure emulators: conformance, conditional writes included.

fake-gcs-server and Azurite are optional here (skipped when not installed, see
``conftest.py``); the S3 tier is the one CI must always run.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from dsops.errors import ObjectExists, PreconditionFailed, StoreUnavailable
from dsops.storage.fsspec_store import FsspecStore
from tests.store_conformance import StoreConformance


def _gcs_bucket(endpoint: str) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project=test",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    return name


def _gcs_store(endpoint: str, bucket: str) -> FsspecStore:
    pytest.importorskip("gcsfs", reason="the gcs extra is not installed")
    return FsspecStore(f"gs://{bucket}/root", endpoint_url=endpoint, token="anon", project="test")


class TestFsspecStoreOnGcsEmulator(StoreConformance):
    @pytest.fixture
    def store(self, gcs_endpoint: str) -> FsspecStore:
        return _gcs_store(gcs_endpoint, _gcs_bucket(gcs_endpoint))


def test_gcs_generation_preconditions(gcs_endpoint: str) -> None:
    store = _gcs_store(gcs_endpoint, _gcs_bucket(gcs_endpoint))
    generation = store.put_if_absent("v.json", b"1")
    assert generation.isdigit()
    with pytest.raises(ObjectExists):
        store.put_if_absent("v.json", b"2")
    with pytest.raises(PreconditionFailed):
        store.put_if_match("v.json", b"2", "not-a-generation")
    assert store.put_if_match("v.json", b"2", generation) != generation


def test_gcs_missing_bucket_is_store_unavailable(gcs_endpoint: str) -> None:
    store = _gcs_store(gcs_endpoint, "dsops-no-such-bucket")
    with pytest.raises(StoreUnavailable, match="create it or check the URL"):
        store.put("k", b"v")


@pytest.fixture
def azure_store(azurite_connection_string: str) -> Iterator[FsspecStore]:
    pytest.importorskip("adlfs", reason="the azure extra is not installed")
    from azure.storage.blob import BlobServiceClient

    container = f"t-{uuid.uuid4().hex[:16]}"
    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    service.create_container(container)
    yield FsspecStore(f"az://{container}/root", connection_string=azurite_connection_string)
    service.close()


class TestFsspecStoreOnAzurite(StoreConformance):
    @pytest.fixture
    def store(self, azure_store: FsspecStore) -> FsspecStore:
        return azure_store


def test_azure_missing_container_is_store_unavailable(azurite_connection_string: str) -> None:
    store = FsspecStore("az://dsops-no-such-container", connection_string=azurite_connection_string)
    with pytest.raises(StoreUnavailable, match="create it or check the URL"):
        store.put("k", b"v")
