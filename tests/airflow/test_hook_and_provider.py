"""DsopsHook (connection → store) and the provider registration Airflow reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider import get_provider_info
from airflow_provider.hooks import DsopsHook
from airflow_provider.operators import CreateDatasetOperator


def _conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def test_missing_connection_falls_back_to_dsops_store(dsops_env):
    hook = DsopsHook()
    assert hook.settings.url is None
    assert hook.store.url == str(dsops_env)
    assert hook.ui_base_url is None


def test_s3_connection_with_keys_endpoint_and_region(monkeypatch):
    _conn(
        monkeypatch,
        "dsops_s3",
        conn_type="dsops",
        host="s3://bucket/datasets",
        login="AKIAEXAMPLE",
        password="secret/key+1",
        extra={
            "endpoint_url": "http://127.0.0.1:8333",
            "region": "eu-west-1",
            "ui_base_url": "http://ui:8000/",
            "cache_dir": "/tmp/dsops-cache-x",
        },
    )
    settings = DsopsHook(dsops_conn_id="dsops_s3").settings
    assert settings.url == "s3://bucket/datasets"
    assert settings.options == {
        "access_key": "AKIAEXAMPLE",
        "secret_key": "secret/key+1",
        "endpoint_url": "http://127.0.0.1:8333",
        "region": "eu-west-1",
    }
    assert settings.cache_dir == "/tmp/dsops-cache-x"
    assert "secret/key+1" not in repr(settings)  # options (secrets) stay out of reprs
    hook = DsopsHook(dsops_conn_id="dsops_s3")
    assert hook.version_url("abc") == "http://ui:8000/versions/abc"
    assert hook.dataset_url("vision/cats", "train") == "http://ui:8000/datasets/vision/cats/train"


def test_s3_connection_reuses_an_aws_connection(monkeypatch):
    _conn(
        monkeypatch,
        "aws_landing",
        conn_type="aws",
        login="AKIAAWS",
        password="aws-secret",
        extra={
            "region_name": "us-west-2",
            "aws_session_token": "token-123",
            "service_config": {"s3": {"endpoint_url": "http://minio:9000"}},
        },
    )
    _conn(
        monkeypatch,
        "dsops_reuse",
        conn_type="dsops",
        host="s3://bucket",
        extra={"aws_conn_id": "aws_landing", "region": "eu-central-1"},
    )
    options = DsopsHook(dsops_conn_id="dsops_reuse").settings.options
    assert options == {
        "access_key": "AKIAAWS",
        "secret_key": "aws-secret",
        "session_token": "token-123",
        "endpoint_url": "http://minio:9000",
        "region": "eu-central-1",  # the dsops connection's own field wins
    }


def test_prefixed_extra_fields_of_older_forms_are_read(monkeypatch, tmp_path):
    _conn(
        monkeypatch,
        "dsops_old",
        conn_type="dsops",
        extra={"extra__dsops__store_url": str(tmp_path / "s"), "extra__dsops__ui_base_url": "u"},
    )
    settings = DsopsHook(dsops_conn_id="dsops_old").settings
    assert (settings.url, settings.ui_base_url, settings.options) == (str(tmp_path / "s"), "u", {})


def test_nothing_reads_the_connection_at_parse_time(monkeypatch):
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("connection read while building the DAG")

    monkeypatch.setattr(DsopsHook, "get_connection", fail)
    op = CreateDatasetOperator(task_id="create", project="p", name="n", dsops_conn_id="x")
    assert op.hook.dsops_conn_id == "x"  # the hook exists, the connection is unread


def test_test_connection_on_a_local_store(monkeypatch, tmp_path):
    _conn(monkeypatch, "dsops_local", conn_type="dsops", host=str(tmp_path / "new-store"))
    ok, message = DsopsHook(dsops_conn_id="dsops_local").test_connection()
    assert ok and "no datasets yet" in message
    from dsops import Dataset

    Dataset.create("p", "n", store=str(tmp_path / "new-store"))  # writes the format marker
    ok, message = DsopsHook(dsops_conn_id="dsops_local").test_connection()
    assert ok and message.startswith("Connected to the dsops store")


def test_test_connection_reports_a_bad_store_url(monkeypatch):
    _conn(monkeypatch, "dsops_bad", conn_type="dsops", host="ftp://nowhere/x")
    ok, message = DsopsHook(dsops_conn_id="dsops_bad").test_connection()
    assert not ok and "Unknown store scheme 'ftp'" in message


# --- what Airflow discovers -------------------------------------------------------------


def test_provider_info_validates_against_airflows_schema():
    import airflow
    import jsonschema
    from airflow.providers_manager import ProvidersManager  # noqa: F401  (schema file location)

    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_providers_manager_registers_connection_form_hook_and_link():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    assert manager.providers["dsops"].data["package-name"] == "dsops"
    hook = ProvidersManagerTaskRuntime().hooks["dsops"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider.hooks.dsops.DsopsHook"
    assert hook.connection_id_attribute_name == "dsops_conn_id"
    widgets = {k: v for k, v in manager.connection_form_widgets.items() if "__dsops__" in k}
    assert {w.field_name for w in widgets.values()} >= {
        "endpoint_url",
        "region",
        "session_token",
        "aws_conn_id",
        "ui_base_url",
    }
    assert widgets["extra__dsops__session_token"].is_sensitive
    assert not widgets["extra__dsops__endpoint_url"].is_sensitive
    behaviour = manager.field_behaviours["dsops"]
    assert behaviour["relabeling"]["host"] == "Store URL"
    assert behaviour["relabeling"]["password"] == "S3 secret access key"
    assert "airflow_provider.links.DsopsVersionLink" in manager.extra_links_class_names


def test_dsops_asset_uris_are_checked():
    from airflow.sdk import Asset

    from airflow_provider.assets import create_asset, parse_dataset_uri

    assert create_asset(project="vision/cats", name="train").uri == "dsops://vision/cats/train"
    assert parse_dataset_uri("dsops://vision/cats/train") == ("vision/cats", "train")
    with pytest.raises(ValueError, match="Not a dsops dataset URL"):
        parse_dataset_uri("dsops://only-a-name")
    assert Asset("dsops://demo/events").uri == "dsops://demo/events"
    with pytest.raises(ValueError, match="Not a dsops dataset URL"):
        Asset("dsops://only-a-name")  # Airflow calls the registered handler


def test_dsops_assets_convert_to_openlineage_datasets():
    pytest.importorskip("airflow.providers.openlineage")
    from airflow_provider.assets import convert_asset_to_openlineage, create_asset

    converted = convert_asset_to_openlineage(create_asset(project="a/b", name="c"), None)
    assert (converted.namespace, converted.name) == ("dsops", "a/b/c")


def test_the_newest_triggering_event_names_the_version():
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from airflow_provider.assets import create_asset, version_from_events

    asset = create_asset(project="demo", name="events")
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    events = [
        SimpleNamespace(timestamp=t0 + timedelta(seconds=2), extra={"version_id": "new"}),
        SimpleNamespace(timestamp=t0, extra={"version_id": "old"}),
        SimpleNamespace(timestamp=t0 + timedelta(seconds=3), extra={}),
    ]
    assert version_from_events({asset: events}, asset) == "new"
    assert version_from_events({}, asset) is None
