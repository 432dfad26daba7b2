"""``dsops.clearml.Dataset``: ClearML's argument names and return values on dsops."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from dsops import Store
from dsops import errors as E
from dsops.clearml import Dataset, FileEntry, LinkEntry
from dsops.clearml.entries import select_paths
from dsops.clearml.stores import store_url


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return _tree(
        tmp_path / "src",
        {"a.csv": "a", "b.jpg": "bb", "imgs/c.jpg": "ccc", "imgs/deep/d.jpg": "dddd"},
    )


def test_create_add_upload_finalize_returns_clearml_values(src: Path, store: Store) -> None:
    ds = Dataset.create(dataset_name="cats", dataset_project="vision", store=store)
    assert ds.is_final() is False and ds.version is None
    assert ds.add_files(src) == 4
    assert ds.add_files(src) == 0  # unchanged: nothing added
    assert ds.upload() is None
    assert ds.is_dirty() is False
    assert ds.finalize() is True
    assert ds.is_final() is True
    assert (ds.name, ds.project, ds.version) == ("cats", "vision", "1.0.0")
    assert ds.list_files() == ["a.csv", "b.jpg", "imgs/c.jpg", "imgs/deep/d.jpg"]
    assert Path(ds.get_local_copy(), "imgs/deep/d.jpg").read_text() == "dddd"


def test_create_takes_tags_version_description_and_output_uri(src: Path, tmp_path: Path) -> None:
    root = tmp_path / "elsewhere"
    ds = Dataset.create(
        dataset_name="cats",
        dataset_project="vision",
        dataset_tags=["raw"],
        dataset_version="2.1",
        description="first",
        output_uri=str(root),
        use_current_task=True,
    )
    assert ds.version == "2.1.0" and ds.tags == ["raw"] and ds.description == "first"
    assert ds.get_default_storage() == str(root)
    ds.finalize()
    assert (root / "versions" / f"{ds.id}.json").exists()
    again = Dataset.get(dataset_id=ds.id, store=str(root))
    assert again.version == "2.1.0"
    with pytest.raises(E.NoMatchingDataset):
        Dataset.get(dataset_id=ds.id)  # the default store does not hold it


def test_parents_as_ids_or_objects_and_defaults_from_the_first_parent(
    src: Path, store: Store
) -> None:
    first = Dataset.create(dataset_name="a", dataset_project="p", store=store)
    first.add_files(src / "a.csv")
    first.finalize()
    second = Dataset.create(dataset_name="b", dataset_project="p", store=store)
    second.add_files(src / "imgs", dataset_path="imgs")
    second.finalize()
    child = Dataset.create(parent_datasets=[first, second.id], store=store)
    assert (child.project, child.name) == ("p", "a")
    child.finalize()
    assert child.list_files() == ["a.csv", "imgs/c.jpg", "imgs/deep/d.jpg"]
    assert child.get_dependency_graph() == {child.id: [first.id, second.id], first.id: [],
                                            second.id: []}  # fmt: skip
    assert child.list_files(dataset_id=second.id) == ["imgs/c.jpg", "imgs/deep/d.jpg"]
    with pytest.raises(E.ConfigError):
        Dataset.create(dataset_project="p", store=store)


def test_list_files_follows_clearmls_dataset_path_rule(src: Path, store: Store) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    ds.add_files(src)
    assert ds.list_files("*.jpg") == ["b.jpg", "imgs/c.jpg", "imgs/deep/d.jpg"]
    assert ds.list_files("*.jpg", recursive=False) == ["b.jpg"]
    assert ds.list_files("imgs/*.jpg") == ["imgs/c.jpg", "imgs/deep/d.jpg"]
    assert ds.list_files("imgs/*.jpg", recursive=False) == ["imgs/c.jpg"]
    assert ds.list_files("imgs") == ["imgs/c.jpg", "imgs/deep/d.jpg"]
    assert ds.list_files("imgs/", recursive=False) == ["imgs/c.jpg"]
    assert ds.list_files("a.csv") == ["a.csv"]
    assert ds.list_files("nothing/*") == []
    assert select_paths(["x/1/a", "x/2/a", "y/a"], "x/*/a") == ["x/1/a", "x/2/a"]


def test_add_files_with_wildcard_dataset_path_and_local_base_folder(
    src: Path, store: Store
) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    assert ds.add_files(src, wildcard="*.jpg", dataset_path="data") == 3
    assert ds.add_files(src / "imgs" / "deep" / "d.jpg", local_base_folder=src,
                        dataset_path="kept") == 1  # fmt: skip
    assert ds.add_files(src / "imgs", recursive=False, dataset_path="flat") == 1
    assert ds.list_files() == [
        "data/b.jpg", "data/imgs/c.jpg", "data/imgs/deep/d.jpg", "flat/c.jpg",
        "kept/imgs/deep/d.jpg",
    ]  # fmt: skip
    with pytest.raises(E.ConfigError, match="local_base_folder"):
        ds.add_files(src / "a.csv", local_base_folder=src / "imgs")


def test_remove_files_returns_a_count_and_honours_recursive(src: Path, store: Store) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    ds.add_files(src)
    assert ds.remove_files("imgs/*.jpg", recursive=False) == 1
    assert ds.list_files() == ["a.csv", "b.jpg", "imgs/deep/d.jpg"]
    assert ds.remove_files("*.jpg") == 2
    assert ds.remove_files("missing/*") == 0
    assert ds.list_files() == ["a.csv"]


def test_sync_folder_returns_removed_added_modified(src: Path, store: Store) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    assert ds.sync_folder(src) == (0, 4, 0)
    ds.finalize()
    child = Dataset.create(dataset_name="n", dataset_project="p", parent_datasets=[ds.id],
                           store=store)  # fmt: skip
    (src / "a.csv").write_text("changed")
    (src / "b.jpg").unlink()
    (src / "new.txt").write_text("n")
    assert child.sync_folder(str(src)) == (1, 1, 1)
    child.finalize()
    assert child.list_added_files() == ["new.txt"]
    assert child.list_modified_files() == ["a.csv"]
    assert child.list_removed_files() == ["b.jpg"]
    assert ds.list_added_files(dataset_id=child.id) == ["b.jpg"]  # against another version


def test_get_by_id_project_name_tags_version_newest_first(src: Path, store: Store) -> None:
    one = Dataset.create(dataset_name="n", dataset_project="p", dataset_tags=["raw"], store=store)
    one.finalize()
    two = Dataset.create(dataset_name="n", dataset_project="p", dataset_tags=["clean"],
                         parent_datasets=[one], store=store)  # fmt: skip
    two.finalize()
    draft = Dataset.create(dataset_name="n", dataset_project="p", parent_datasets=[two],
                           store=store)  # fmt: skip
    assert Dataset.get(dataset_id=one.id, store=store).id == one.id
    assert Dataset.get(dataset_project="p", dataset_name="n", store=store).id == draft.id
    got = Dataset.get(dataset_project="p", dataset_name="n", only_completed=True, store=store)
    assert got.id == two.id
    assert Dataset.get(dataset_name="n", dataset_tags=["raw"], store=store).id == one.id
    assert Dataset.get(dataset_project="p", dataset_name="n", dataset_version="1.0.0",
                       store=store).id == one.id  # fmt: skip
    assert Dataset.get(dataset_project="p", dataset_name="n", alias="Raw", overridable=True,
                       only_completed=True, store=store).id == two.id  # fmt: skip
    with pytest.raises(E.NoMatchingDataset, match="published"):
        Dataset.get(dataset_project="p", dataset_name="n", only_published=True, store=store)
    two.publish()
    assert Dataset.get(dataset_project="p", only_published=True, store=store).id == two.id
    with pytest.raises(ValueError, match="No dataset matches"):
        Dataset.get(dataset_project="p", dataset_name="other", store=store)
    with pytest.raises(LookupError):
        Dataset.get(dataset_id="0" * 32, store=store)
    with pytest.raises(E.NoMatchingDataset, match="not finalized"):
        Dataset.get(dataset_id=draft.id, only_completed=True, store=store)


def test_get_auto_create_and_writable_copy(src: Path, store: Store) -> None:
    made = Dataset.get(dataset_project="p", dataset_name="n", dataset_tags=["t"],
                       auto_create=True, store=store)  # fmt: skip
    assert made.is_final() is False and made.tags == ["t"]
    made.add_files(src / "a.csv")
    made.finalize()
    copy = Dataset.get(dataset_project="p", dataset_name="n", writable_copy=True,
                       only_completed=True, store=store)  # fmt: skip
    assert copy.id != made.id and copy.is_final() is False
    assert copy.get_dependency_graph()[copy.id] == [made.id]
    assert copy.list_files() == ["a.csv"]


def test_list_datasets_is_clearml_shaped(store: Store) -> None:
    a = Dataset.create(dataset_name="cats", dataset_project="vision", dataset_tags=["x"],
                       store=store)  # fmt: skip
    a.finalize()
    b = Dataset.create(dataset_name="dogs", dataset_project="vision/pets", store=store)
    b.finalize()
    Dataset.create(dataset_name="draft", dataset_project="vision", store=store)
    rows = Dataset.list_datasets(dataset_project="vision", store=store)
    assert [r["name"] for r in rows] == ["cats", "dogs"]
    assert set(rows[0]) >= {"id", "name", "project", "version", "tags", "created"}
    assert rows[0]["tags"] == ["x"] and rows[0]["version"] == "1.0.0"
    assert isinstance(rows[0]["created"], datetime)
    flat = Dataset.list_datasets(dataset_project="vision", recursive_project_search=False,
                                 store=store)  # fmt: skip
    assert [r["name"] for r in flat] == ["cats"]
    assert [r["name"] for r in Dataset.list_datasets(partial_name="OG", store=store)] == ["dogs"]
    assert [r["id"] for r in Dataset.list_datasets(ids=[b.id], store=store)] == [b.id]
    assert [r["name"] for r in Dataset.list_datasets(tags=["x"], store=store)] == ["cats"]
    every = Dataset.list_datasets(only_completed=False, store=store)
    assert [r["state"] for r in every] == ["final", "final", "draft"]


def test_file_and_link_entries(src: Path, store: Store) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    ds.add_files(src / "a.csv")
    assert ds.add_external_files(f"file://{src / 'imgs'}", dataset_path="ext") == 2
    ds.finalize()
    entry = ds.file_entries_dict["a.csv"]
    assert isinstance(entry, FileEntry)
    assert (entry.relative_path, entry.size, entry.parent_dataset_id) == ("a.csv", 1, ds.id)
    assert len(entry.hash) == 64 and ds.file_entries == [entry]
    link = ds.link_entries_dict["ext/deep/d.jpg"]
    assert isinstance(link, LinkEntry) and link.link.endswith("imgs/deep/d.jpg")
    assert link.size == 4 and sorted(ds.link_entries_dict) == ["ext/c.jpg", "ext/deep/d.jpg"]
    assert ds.list_files() == ["a.csv", "ext/c.jpg", "ext/deep/d.jpg"]


def test_verify_dataset_hash_lists_bad_files(src: Path, store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    ds.add_files(src)
    ds.finalize()
    assert ds.verify_dataset_hash() == []
    copy = Path(ds.get_mutable_local_copy(tmp_path / "copy"))
    assert ds.verify_dataset_hash(local_copy_path=copy) == []
    (copy / "a.csv").write_text("b")  # same size, other bytes
    (copy / "b.jpg").unlink()
    assert ds.verify_dataset_hash(local_copy_path=copy) == ["a.csv", "b.jpg"]
    assert ds.verify_dataset_hash(local_copy_path=copy, skip_hash=True) == ["b.jpg"]


def test_local_copies_with_parts_and_overwrite(src: Path, store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    ds.add_files(src)
    ds.finalize()
    parts = [sorted(_walk(ds.get_local_copy(part=i, num_parts=2))) for i in (0, 1)]
    assert sorted(parts[0] + parts[1]) == ds.list_files() and parts[0] and parts[1]
    target = tmp_path / "work"
    assert ds.get_mutable_local_copy(target) == str(target)
    with pytest.raises(E.TargetExists):
        ds.get_mutable_local_copy(target)
    assert ds.get_mutable_local_copy(target, raise_on_error=False) is None
    ds.get_mutable_local_copy(target, overwrite=True, part=1, num_parts=2)
    assert sorted(_walk(target)) == parts[1]
    draft = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    with pytest.raises(E.NotFinalized):
        draft.get_local_copy()


def _walk(folder: str | Path) -> list[str]:
    root = Path(folder)
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


def test_metadata_description_tags_publish(store: Store) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", dataset_tags=["a"], store=store)
    ds.set_metadata({"classes": ["cat"]}, metadata_name="labels", ui_visible=False)
    assert ds.get_metadata("labels") == {"classes": ["cat"]}
    assert ds.get_metadata() is None
    ds.set_description("hello")
    assert ds.description == "hello"
    ds.tags = ds.tags + ["b"]  # noqa: RUF005 (as ClearML scripts write it)
    assert ds.tags == ["a", "b"]
    ds.tags = ["b"]
    assert ds.tags == ["b"]
    with pytest.raises(E.NotFinalized):
        ds.publish()
    assert ds.publish(raise_on_error=False) is False
    ds.finalize()
    assert ds.publish() is True
    with pytest.raises(E.ProtectedVersion):
        Dataset.delete(dataset_id=ds.id, store=store)


def test_delete_by_id_by_name_and_entire_dataset(store: Store) -> None:
    one = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    one.finalize()
    two = Dataset.create(dataset_name="n", dataset_project="p", parent_datasets=[one],
                         store=store)  # fmt: skip
    two.finalize()
    with pytest.raises(E.ConfigError, match="2 versions"):
        Dataset.delete(dataset_project="p", dataset_name="n", store=store)
    with pytest.raises(E.ProtectedVersion):  # a parent of two
        Dataset.delete(dataset_project="p", dataset_name="n", dataset_version="1.0.0",
                       store=store)  # fmt: skip
    assert Dataset.delete(dataset_id=two.id, store=store) is None
    Dataset.delete(dataset_project="p", dataset_name="n", store=store)  # the one left
    assert Dataset.list_datasets(store=store) == []
    with pytest.raises(E.NoMatchingDataset):
        Dataset.delete(dataset_project="p", dataset_name="n", store=store)
    three = Dataset.create(dataset_name="m", dataset_project="p", store=store)
    three.finalize()
    Dataset.create(dataset_name="m", dataset_project="p", parent_datasets=[three],
                   store=store).finalize()  # fmt: skip
    Dataset.delete(dataset_project="p", dataset_name="m", entire_dataset=True, force=True,
                   store=store)  # fmt: skip
    assert Dataset.list_datasets(store=store) == []
    with pytest.raises(E.ServerOnly):
        Dataset.delete(dataset_id=three.id, delete_external_files=True, store=store)


def test_squash_rename_move_to_project(src: Path, store: Store) -> None:
    a = Dataset.create(dataset_name="a", dataset_project="p", store=store)
    a.add_files(src / "a.csv")
    a.finalize()
    b = Dataset.create(dataset_name="b", dataset_project="q", store=store)
    b.add_files(src / "b.jpg")
    b.finalize()
    flat = Dataset.squash("flat", dataset_ids=[a.id], dataset_project_name_pairs=[("q", "b")],
                          output_url=store.url)  # fmt: skip
    assert flat.is_final() and flat.list_files() == ["a.csv", "b.jpg"]
    assert flat.get_dependency_graph() == {flat.id: []}
    Dataset.rename("renamed", dataset_project="p", dataset_name="flat", store=store)
    assert Dataset.get(dataset_project="p", dataset_name="renamed", store=store).id == flat.id
    Dataset.move_to_project("elsewhere/deep", dataset_project="p", dataset_name="renamed",
                            store=store)  # fmt: skip
    moved = Dataset.get(dataset_project="elsewhere/deep", dataset_name="renamed", store=store)
    assert moved.id == flat.id and moved.project == "elsewhere/deep"
    with pytest.raises(E.ConfigError):
        Dataset.squash("x", store=store)


def test_upload_refuses_another_store_and_finalize_can_report_false(
    store: Store, tmp_path: Path
) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    ds.upload(output_url=store.url, compression="zip", chunk_size=10, max_workers=2, retries=1)
    with pytest.raises(E.ConfigError, match="output_uri"):
        ds.upload(output_url=str(tmp_path / "other"))
    assert ds.finalize(verbose=True, auto_upload=True) is True
    other = Dataset.create(dataset_name="n", dataset_project="p", dataset_version="1.0.0",
                           store=store)  # fmt: skip
    with pytest.raises(E.VersionConflict):
        other.finalize()
    assert other.finalize(raise_on_error=False) is False


def test_server_features_are_no_ops_or_name_the_dsops_way(store: Store) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    logger = ds.get_logger()
    assert logger.report_table(title="t", series="s", table_plot=None) is None
    assert logger.report_histogram("t", "s", values=[1], iteration=0) is None
    with pytest.raises(AttributeError):
        logger.no_such_thing  # noqa: B018
    with pytest.raises(E.ServerOnly, match="no offline mode"):
        Dataset.get_offline_mode_folder()
    with pytest.raises(NotImplementedError):
        Dataset.import_offline_session("x")
    assert Dataset.is_offline() is False


def test_azure_uris_become_az_stores() -> None:
    assert store_url("azure://acct.blob.core.windows.net/box/sets") == (
        "az://box/sets",
        {"account_name": "acct"},
    )
    assert store_url("azure://box/sets") == ("az://box/sets", {})
    assert store_url("/mnt/x") == ("/mnt/x", {})


def test_default_store_is_dsops_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ds = Dataset.create(dataset_name="n", dataset_project="p")
    assert ds.get_default_storage() == os.environ["DSOPS_STORE"]
    ds.finalize()
    assert Dataset.get(dataset_project="p", dataset_name="n").id == ds.id


def test_get_needs_a_filter_and_finds_drafts_by_their_current_tags(store: Store) -> None:
    with pytest.raises(E.ConfigError, match="dataset_id="):
        Dataset.get(store=store)
    draft = Dataset.create(dataset_name="n", dataset_project="p", store=store)
    draft.tags = ["later"]
    assert Dataset.get(dataset_tags=["later"], store=store).id == draft.id


def test_output_uri_on_s3_with_the_environments_endpoint(
    src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``output_uri="s3://…"`` as ClearML scripts write it; endpoint and keys from the
    environment, as boto3 reads them (here a moto server)."""
    from tests.moto_s3 import KEYS, moto_server, new_bucket

    servers = moto_server()
    endpoint = next(servers)
    try:
        bucket = new_bucket(endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS["access_key"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS["secret_key"])
        monkeypatch.setenv("AWS_DEFAULT_REGION", KEYS["region"])
        uri = f"s3://{bucket}/datasets"
        ds = Dataset.create(dataset_name="n", dataset_project="p", output_uri=uri)
        ds.add_files(src)
        ds.upload(output_url=uri)
        assert ds.finalize() is True
        got = Dataset.get(dataset_project="p", dataset_name="n", store=uri)
        assert got.id == ds.id and got.get_default_storage() == uri
        assert Path(got.get_local_copy(), "imgs", "c.jpg").read_text() == "ccc"
    finally:
        servers.close()
