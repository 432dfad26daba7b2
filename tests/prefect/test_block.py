"""The DsopsStore block: Prefect's block standards, registration, and store resolution."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from prefect.blocks.core import Block
from prefect.testing.cli import invoke_and_assert
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr

import dsops
from dsops.errors import ConfigError
from prefect_tasks import DsopsStore
from prefect_tasks.blocks import LOGO_PATH, aws_credentials_options, resolve_store, shared_store


class TestDsopsStoreStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self) -> type[Block]:
        return DsopsStore

    def test_has_a_valid_image(self, block: type[Block]) -> None:
        # Prefect's version downloads the logo; there is no network here, so check that
        # the URL names the file shipped in the package, and that file by the same rules.
        image = pytest.importorskip("PIL.Image")
        assert str(block._logo_url).endswith(f"/main/{LOGO_PATH}")
        logo = image.open(Path(__file__).parents[2] / LOGO_PATH)
        assert logo.width == logo.height
        assert 1000 > logo.width > 45


def test_collection_entry_point_imports_the_module_that_registers_the_block() -> None:
    from prefect.plugins import load_prefect_collections
    from prefect.utilities.dispatch import lookup_type

    collections = load_prefect_collections()
    assert getattr(collections["dsops"], "DsopsStore", None) is DsopsStore
    assert lookup_type(Block, DsopsStore.__dispatch_key__()) is DsopsStore


def test_prefect_block_register_finds_the_block_in_the_package() -> None:
    invoke_and_assert(
        ["block", "register", "-m", "prefect_tasks"],
        expected_code=0,
        expected_output_contains="dsops Store",
    )


def test_store_options_pass_only_what_is_set_and_reveal_secrets_to_the_store() -> None:
    block = DsopsStore(
        url="s3://bucket/datasets",
        endpoint_url="http://127.0.0.1:9000",
        access_key="AKIA",
        secret_key="s3cret",
    )
    assert block.store_options() == {
        "endpoint_url": "http://127.0.0.1:9000",
        "access_key": "AKIA",
        "secret_key": "s3cret",
    }
    assert "s3cret" not in repr(block)
    assert "s3cret" not in block.model_dump_json()
    store = block.get_store()
    assert store.url == "s3://bucket/datasets"


def test_aws_credentials_map_onto_store_options_and_own_fields_win() -> None:
    credentials = SimpleNamespace(
        aws_access_key_id="AKIA",
        aws_secret_access_key=SecretStr("from-aws-block"),
        aws_session_token=None,
        profile_name=None,
        region_name="eu-west-1",
        aws_client_parameters=SimpleNamespace(endpoint_url="http://minio:9000"),
    )
    assert aws_credentials_options(credentials) == {
        "access_key": "AKIA",
        "secret_key": "from-aws-block",
        "region": "eu-west-1",
        "endpoint_url": "http://minio:9000",
    }


@pytest.mark.skipif(
    "aws_credentials" not in DsopsStore.model_fields, reason="prefect-aws is not installed"
)
def test_block_accepts_prefect_aws_credentials() -> None:
    from prefect_aws import AwsCredentials

    block = DsopsStore(
        url="s3://b", region="us-east-2", aws_credentials=AwsCredentials(region_name="x")
    )
    assert block.store_options()["region"] == "us-east-2"


def test_resolve_store_takes_a_url_none_or_a_saved_block_name(
    tmp_path: Path, dsops_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_url = resolve_store(str(tmp_path / "explicit"))
    assert by_url.store.url == str(tmp_path / "explicit")
    assert (by_url.ui_url, by_url.options) == (None, {})

    monkeypatch.setenv("DSOPS_UI_URL", "http://ui:8000/")
    default = resolve_store(None)
    assert default.store.url == str(dsops_env) and default.ui_url == "http://ui:8000"

    DsopsStore(url=str(tmp_path / "saved"), ui_url="http://saved-ui/").save(
        "pytest-saved-store", overwrite=True
    )
    saved = resolve_store("pytest-saved-store")
    assert saved.store.url == str(tmp_path / "saved") and saved.ui_url == "http://saved-ui"

    relative = resolve_store("./pytest-saved-store")
    assert relative.store.url.endswith("pytest-saved-store")

    block = DsopsStore(url="s3://b/p", endpoint_url="http://s3:9000", ui_url="http://ui")
    resolved = resolve_store(block)
    assert resolved.options == {"endpoint_url": "http://s3:9000"}
    assert resolved.store.url == "s3://b/p"


def test_an_unknown_block_name_says_how_to_fix_it() -> None:
    with pytest.raises(ConfigError, match=r"save one under that name.*\./no-such-block"):
        resolve_store("no-such-block")


def test_stores_are_shared_per_process_until_the_environment_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = shared_store(None)
    assert shared_store(None) is first
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "other-cache"))
    assert shared_store(None) is not first
    assert isinstance(first, dsops.Store)
