"""Dataset and project names as ClearML allows them (docs/FORMAT.md, "Names"): spaces,
capitals, unicode, nested projects — kept exactly in records, escaped in keys, with
traversal impossible and plain names on the keys they always had."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsops import Dataset, Store, layout
from dsops.catalog import DatasetRef, check_project_name
from dsops.errors import ConfigError, DatasetRenamed, InvalidReference

NAMES = [
    ("dataset_examples/MNIST", "MNIST Training Dataset"),
    ("examples/Urbansounds", "UrbanSounds example"),
    ("Équipe vision/猫", "chats & chiens (v2)"),
    ("p", "100% done, #1 + more!"),
    ("p", "a%20b"),
]


@pytest.mark.parametrize(("project", "name"), NAMES)
def test_a_display_name_round_trips_through_create_get_list(
    store: Store, tmp_path: Path, project: str, name: str
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    ds = Dataset.create(project, name, store=store)
    ds.add_files(src)
    version_id = ds.finalize(alias="prod")
    assert (ds.project, ds.name, ds.ref) == (project, name, f"{project}/{name}@1.0.0")
    assert store.backend.get_json(layout.version_key(version_id))["name"] == name
    for ref in (f"{project}/{name}@1.0.0", f"{project}/{name}@latest", f"{project}/{name}@prod"):
        assert Dataset.get(ref, store=store).id == version_id
    assert Dataset.get(project=project, name=name, store=store).read_file("a.txt") == b"a"
    [row] = Dataset.list(project, name, store=store)
    assert (row["project"], row["name"]) == (project, name)
    child = Dataset.create(project, name, parents=["latest"], store=store)
    assert child.finalize() and child.version == "1.0.1"
    [summary] = Dataset.datasets(store=store)
    assert (summary["project"], summary["name"]) == (project, name)


def test_keys_escape_each_segment_and_plain_names_keep_their_keys() -> None:
    assert layout.name_key("vision/cats", "train", "1.0.0") == "names/vision/cats/train/1.0.0"
    assert layout.ref_key("a.b", "x_y-z", "latest") == "refs/a.b/x_y-z/latest"
    assert layout.rename_key("p", "n") == "renames/p/n.json"
    assert layout.name_key("dataset_examples/MNIST", "MNIST Training Dataset", "1.0.0") == (
        "names/dataset_examples/MNIST/MNIST%20Training%20Dataset/1.0.0"
    )
    assert layout.ref_key("p", "a%20b", "prod") == "refs/p/a%2520b/prod"  # never "a b"'s
    assert layout.key_segment("猫") == "%E7%8C%AB"
    for project, name in NAMES:
        assert layout.parse_dataset_key(layout.dataset_key(project, name)) == (project, name)


def test_the_store_holds_only_escaped_keys(store: Store) -> None:
    ds = Dataset.create("team/Vision Lab", "Cats & Dogs", store=store)
    ds.finalize()
    keys = [k for k in store.backend.list_keys() if k.startswith(("names/", "refs/"))]
    assert sorted(keys) == [
        "names/team/Vision%20Lab/Cats%20%26%20Dogs/1.0.0",
        "refs/team/Vision%20Lab/Cats%20%26%20Dogs/latest",
    ]
    root = Path(store.url)
    assert not any(" " in p.name or "&" in p.name for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("project", "name"),
    [
        ("..", "n"),
        ("a/../b", "n"),
        ("a/./b", "n"),
        ("a//b", "n"),
        ("/a", "n"),
        ("a/", "n"),
        ("", "n"),
        ("p", ".."),
        ("p", "."),
        ("p", ""),
        ("p", "a/b"),
        ("p", "a\\b"),
        ("p", "a\x00b"),
        ("p", "a\nb"),
        ("p\t", "n"),
        ("p", "a\u2028b"),
        ("p", " padded"),
        ("p", "trailing "),
        ("p", "at@sign"),
        ("p", "x" * 129),
    ],
)
def test_unsafe_names_are_refused_before_anything_is_written(
    store: Store, project: str, name: str
) -> None:
    with pytest.raises(ConfigError):
        check_project_name(project, name)
    with pytest.raises(ConfigError):
        Dataset.create(project, name, store=store)
    assert [k for k in store.backend.list_keys() if not k.startswith("dsops.json")] == []


def test_references_with_spaces_parse_and_bad_ones_are_refused() -> None:
    ref = DatasetRef.parse("dataset_examples/MNIST/MNIST Complete Dataset@1.0.0")
    assert (ref.project, ref.name, ref.label) == (
        "dataset_examples/MNIST",
        "MNIST Complete Dataset",
        "1.0.0",
    )
    with pytest.raises(InvalidReference):
        DatasetRef.parse("p/../x@latest")
    with pytest.raises(InvalidReference):
        DatasetRef.parse("p/a\nb@latest")


def test_rename_and_move_with_display_names(store: Store) -> None:
    vid = Dataset.create("dataset examples", "MNIST Training", store=store).finalize()
    Dataset.rename("dataset examples", "MNIST Training", "MNIST Train (old)", store=store)
    moved = Dataset.move("dataset examples", "MNIST Train (old)", "archive/2024 Q1", store=store)
    assert moved["to"] == {"project": "archive/2024 Q1", "name": "MNIST Train (old)"}
    assert Dataset.get("archive/2024 Q1/MNIST Train (old)@1.0.0", store=store).id == vid
    with pytest.raises(DatasetRenamed, match=r"renamed to dataset examples/MNIST Train \(old\)"):
        Dataset.get("dataset examples/MNIST Training@latest", store=store)
    fresh = Store(store.url, cache_dir=store.cache.root)  # markers read back from keys
    fresh.catalog.load_renames()
    assert fresh.catalog.location("dataset examples", "MNIST Training") == (
        "archive/2024 Q1",
        "MNIST Train (old)",
    )
    [row] = Dataset.list(store=fresh)
    assert (row["project"], row["name"]) == ("archive/2024 Q1", "MNIST Train (old)")


def test_a_dataset_and_a_project_of_the_same_path_stay_apart(store: Store) -> None:
    """``dataset_examples/MNIST`` as a dataset and as a project (ClearML has both)."""
    mine = Dataset.create("dataset_examples", "MNIST", store=store).finalize(alias="prod")
    other = Dataset.create("dataset_examples/MNIST", "train", store=store).finalize(alias="prod")
    assert store.catalog.labels("dataset_examples", "MNIST") == ["1.0.0"]
    assert store.catalog.aliases("dataset_examples", "MNIST") == {"latest": mine, "prod": mine}
    again = Dataset.create("dataset_examples", "MNIST", parents=["latest"], store=store)
    assert again.finalize() and again.version == "1.0.1"
    Dataset.rename("dataset_examples", "MNIST", "MNIST-old", store=store)
    assert Dataset.get("dataset_examples/MNIST/train@prod", store=store).id == other
    assert Dataset.get("dataset_examples/MNIST-old@prod", store=store).id == mine
    Dataset.delete(project="dataset_examples", name="MNIST-old", entire_dataset=True,
                   force=True, store=store)  # fmt: skip
    assert [r["id"] for r in Dataset.list(store=store)] == [other]
