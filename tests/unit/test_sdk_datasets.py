"""``Dataset.datasets``: one summary per dataset, and search by words and tag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store
from dsops.errors import CorruptRecord, DsopsWarning
from tests.helpers import write_tree


def _version(
    store: Store,
    tmp_path: Path,
    dataset: str,
    files: dict[str, bytes | str],
    parents: list[str] | None = None,
    **options: Any,
) -> str:
    project, name = dataset.rsplit("/", 1)
    ds = Dataset.create(project, name, parents=parents, store=store, **options)
    if files:
        ds.add_files(write_tree(tmp_path / ds.id, files))
    return ds.finalize()


@pytest.fixture
def catalog(store: Store, tmp_path: Path) -> dict[str, str]:
    """vision/cats: three versions (prod on the second); nlp/en/corpus: one."""
    v1 = _version(store, tmp_path, "vision/cats", {"a.png": "aa"}, tags=["img"])
    v2 = _version(
        store, tmp_path, "vision/cats", {"b.png": "bbb"}, [v1], description="Cat pictures"
    )
    v3 = _version(store, tmp_path, "vision/cats", {"c.png": "c"}, [v2], tags=["img", "v3"])
    Dataset.get(v2, store=store).set_alias("prod")
    corpus = _version(store, tmp_path, "nlp/en/corpus", {"t.txt": "words"}, tags=["text"])
    return {"v1": v1, "v2": v2, "v3": v3, "corpus": corpus}


def test_one_summary_per_dataset_sorted_with_latest_counts_aliases_and_tags(
    store: Store, catalog: dict[str, str]
) -> None:
    found = Dataset.datasets(store=store)
    assert [(d["project"], d["name"]) for d in found] == [("nlp/en", "corpus"), ("vision", "cats")]
    cats = found[1]
    assert cats["version_count"] == 3
    assert cats["latest"] == {"id": catalog["v3"], "version": "1.0.2", "ref": "vision/cats@1.0.2"}
    assert (cats["file_count"], cats["size"]) == (3, 6)  # a.png + b.png + c.png
    assert cats["aliases"] == {"latest": catalog["v3"], "prod": catalog["v2"]}
    assert cats["tags"] == ["img", "v3"]
    newest = Dataset.get(catalog["v3"], store=store).record
    assert newest is not None and cats["updated"] == newest.finalized_at
    assert cats["description"] == "Cat pictures"  # the latest has none: the newest given


def test_latest_without_a_latest_alias_is_the_highest_semver(store: Store, tmp_path: Path) -> None:
    highest = _version(store, tmp_path, "demo/toy", {"a": "1"}, version="2.0.0")
    _version(store, tmp_path, "demo/toy", {"a": "22"}, version="1.5.0")  # newer, lower
    (Path(store.url) / "refs" / "demo" / "toy" / "latest").unlink()
    [toy] = Dataset.datasets(store=store)
    assert toy["latest"] == {"id": highest, "version": "2.0.0", "ref": "demo/toy@2.0.0"}
    assert (toy["size"], toy["aliases"]) == (1, {})


@pytest.mark.parametrize(
    ("q", "tag", "expected"),
    [
        (None, None, ["nlp/en/corpus", "vision/cats"]),
        ("corpus", None, ["nlp/en/corpus"]),
        ("CATS", None, ["vision/cats"]),
        ("pictures", None, ["vision/cats"]),  # a word of the description
        ("vision pictures", None, ["vision/cats"]),  # every word must occur
        ("vision words", None, []),
        ("en/corp", None, ["nlp/en/corpus"]),  # a substring of project/name
        (None, "img", ["vision/cats"]),
        (None, "v3", ["vision/cats"]),  # a tag of any version
        ("nlp", "text", ["nlp/en/corpus"]),
        ("cats", "text", []),
        ("  ", " ", ["nlp/en/corpus", "vision/cats"]),  # blank means any
    ],
)
def test_search_by_words_and_tag(
    store: Store, catalog: dict[str, str], q: str | None, tag: str | None, expected: list[str]
) -> None:
    found = Dataset.datasets(q, tag, store=store)
    assert [f"{d['project']}/{d['name']}" for d in found] == expected


def test_an_empty_store_has_no_datasets(store: Store) -> None:
    assert Dataset.datasets(store=store) == []


def test_a_corrupt_record_is_skipped_and_reported(
    store: Store, catalog: dict[str, str], tmp_path: Path
) -> None:
    path = Path(store.url) / "versions" / f"{catalog['corpus']}.json"
    path.chmod(0o644)
    path.write_bytes(b"{not json")
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    with pytest.warns(DsopsWarning, match=f"versions/{catalog['corpus']}.json"):
        assert [d["name"] for d in Dataset.datasets(store=fresh)] == ["cats"]
    seen: list[CorruptRecord] = []
    assert [d["name"] for d in Dataset.datasets(store=fresh, on_corrupt=seen.append)] == ["cats"]
    assert [e.key for e in seen] == [f"versions/{catalog['corpus']}.json"]


def test_a_corrupt_alias_is_skipped_and_reported(
    store: Store, catalog: dict[str, str], tmp_path: Path
) -> None:
    (Path(store.url) / "refs" / "vision" / "cats" / "prod").write_text(json.dumps({"x": 1}))
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    seen: list[CorruptRecord] = []
    cats = Dataset.datasets("cats", store=fresh, on_corrupt=seen.append)[0]
    assert cats["aliases"] == {"latest": catalog["v3"]}
    assert [e.key for e in seen] == ["refs/vision/cats/prod"]
