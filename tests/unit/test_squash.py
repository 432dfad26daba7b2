"""``Dataset.squash``: one parentless version merging others, no content bytes copied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsops import Dataset, Store
from dsops.catalog import VersionRecord
from dsops.cli import cli
from dsops.errors import ConfigError, NotFinalized, VersionConflict, VersionNotFound
from dsops.storage import LocalStore
from tests.helpers import snapshot, write_tree


class WriteCountingStore(LocalStore):
    """A local store that records every key written and the content bytes written."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.content_bytes = 0
        self.written: list[str] = []

    def _note(self, key: str, n: int) -> None:
        self.written.append(key)
        if key.startswith(("packs/", "objects/")):
            self.content_bytes += n

    def put(self, key: str, data: bytes) -> str:
        self._note(key, len(data))
        return super().put(key, data)

    def put_if_absent(self, key: str, data: bytes) -> str:
        self._note(key, len(data))
        return super().put_if_absent(key, data)

    def put_if_match(self, key: str, data: bytes, etag: str) -> str:
        self._note(key, len(data))
        return super().put_if_match(key, data, etag)

    def put_file(self, key: str, path: Path) -> str:
        self._note(key, path.stat().st_size)
        return super().put_file(key, path)

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        self._note(key, path.stat().st_size)
        return super().put_file_if_absent(key, path)


@pytest.fixture
def three(tmp_path: Path) -> tuple[Store, WriteCountingStore, list[str], dict[str, bytes]]:
    """Three versions of one dataset with overlapping paths; the later-wins merge."""
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "wcache")
    contents = [
        {"a.txt": "a1", "shared.txt": "one", "big.bin": b"\x01" * (5 * 1024 * 1024)},
        {"b.txt": "b2", "shared.txt": "two", "sub/x.txt": "x2"},
        {"c.txt": "c3", "sub/x.txt": "x3", "a.txt": "a3"},
    ]
    ids = []
    for n, files in enumerate(contents):
        src = write_tree(tmp_path / f"src{n}", files)
        ds = Dataset.create("demo", "daily", store=store)
        ds.add_files(src)
        ids.append(ds.finalize())
    expected: dict[str, bytes] = {}
    for files in contents:
        expected.update({k: v.encode() if isinstance(v, str) else v for k, v in files.items()})
    backend = WriteCountingStore(str(tmp_path / "store"))
    counted = Store(cache_dir=tmp_path / "cache", backend=backend)
    return counted, backend, ids, expected


def test_squash_of_three_versions_later_wins_byte_for_byte_and_copies_no_content(
    three: tuple[Store, WriteCountingStore, list[str], dict[str, bytes]],
) -> None:
    store, backend, ids, expected = three
    content_before = {i.key for i in store.backend.list("packs/")}
    content_before |= {i.key for i in store.backend.list("objects/")}
    modified = {k: store.backend.head(k).modified for k in content_before}
    squashed = Dataset.squash(
        "flat",
        [ids[0], f"demo/daily@{Dataset.get(ids[1], store=store).version}", ids[2]],
        store=store,
    )
    assert backend.content_bytes == 0
    assert not [k for k in backend.written if k.startswith(("packs/", "objects/"))]
    content_after = {i.key for i in store.backend.list("packs/")}
    content_after |= {i.key for i in store.backend.list("objects/")}
    assert content_after == content_before
    # Reused content is renewed (touched) so gc's grace period covers it, as adds do;
    # content only the overridden files used is not touched.
    named = set(squashed.manifest().column("object").to_pylist()) - {""}
    assert named < content_before
    assert all(store.backend.head(k).modified > modified[k] for k in named)
    assert all(store.backend.head(k).modified == modified[k] for k in content_before - named)
    assert snapshot(squashed.get_local_copy()) == expected
    assert squashed.ref == "demo/flat@1.0.0" and squashed.aliases() == ["latest"]
    record = Dataset.get("demo/flat@latest", store=store).record
    assert record is not None
    assert record.squashed_from == tuple(ids) and record.parents == ()
    assert record.changes["stored_bytes"] == 0
    assert record.file_count == len(expected)
    assert [r.id for r in squashed.lineage()] == [squashed.id]
    assert squashed.get_dependency_graph() == {squashed.id: []}
    assert squashed.verify(deep=True)
    assert squashed.to_dict()["squashed_from"] == ids


def test_squash_writes_the_commit_protocol_keys_and_one_part(
    three: tuple[Store, WriteCountingStore, list[str], dict[str, bytes]],
) -> None:
    store, backend, ids, _ = three
    squashed = Dataset.squash("flat", ids, "other/project", store=store, version="2.0.0")
    assert squashed.ref == "other/project/flat@2.0.0"
    parts = [k for k in backend.written if "/parts/" in k]
    assert len(parts) == 1
    kinds = [k.split("/")[0] for k in backend.written]
    for needed in ("drafts", "names", "manifests", "versions", "refs"):
        assert needed in kinds
    # The record is the commit point: written after the manifest, before latest moves.
    assert kinds.index("manifests") < kinds.index("versions") < kinds.index("refs")
    # Finalize again (as after a crash): the same record, squashed_from kept.
    again = Dataset.get(squashed.id, store=store)
    assert again.finalize() == squashed.id
    assert again.record is not None and again.record.squashed_from == tuple(ids)


def test_squash_defaults_to_the_first_versions_project_and_takes_datasets(
    three: tuple[Store, WriteCountingStore, list[str], dict[str, bytes]],
) -> None:
    store, _, ids, _ = three
    first = Dataset.get(ids[2], store=store)
    squashed = Dataset.squash("one", [first], store=store, alias="prod", tags=["squashed"])
    assert squashed.project == "demo" and squashed.aliases() == ["latest", "prod"]
    assert squashed.list_files() == first.list_files()
    assert squashed.tags == ["squashed"]


def _store_keys(store: Store) -> set[str]:
    return {i.key for i in store.backend.list("")}


@pytest.mark.parametrize("case", ["empty", "missing", "draft", "taken", "bad_name"])
def test_bad_squash_input_is_a_clear_error_and_writes_nothing(
    three: tuple[Store, WriteCountingStore, list[str], dict[str, bytes]], case: str
) -> None:
    store, backend, ids, _ = three
    draft = Dataset.create("demo", "open", store=store)
    before = _store_keys(store)
    backend.written.clear()
    versions: list[str] = {
        "empty": [],
        "missing": [ids[0], "f" * 32],
        "draft": [ids[0], draft.id],
        "taken": ids,
        "bad_name": ids,
    }[case]
    errors = {
        "empty": (ConfigError, "at least one version"),
        "missing": (VersionNotFound, "f" * 32),
        "draft": (NotFinalized, "still a draft"),
        "taken": (VersionConflict, "already exists"),
        "bad_name": (ConfigError, "Invalid dataset name"),
    }
    error, message = errors[case]
    with pytest.raises(error, match=message):
        Dataset.squash(
            "daily" if case != "bad_name" else "no/slash",
            versions,
            store=store,
            version="1.0.1" if case == "taken" else None,
        )
    assert backend.written == []
    assert _store_keys(store) == before


def test_old_version_records_without_squashed_from_still_load() -> None:
    old = {"id": "ab" * 16, "project": "p", "name": "n", "version": "1.0.0", "parents": []}
    record = VersionRecord.from_dict(old)
    assert record.squashed_from == ()
    assert record.to_dict()["squashed_from"] == []


def test_cli_squash(
    three: tuple[Store, WriteCountingStore, list[str], dict[str, bytes]],
    tmp_path: Path,
    cli_runner: CliRunner,
) -> None:
    _, _, ids, expected = three
    runner = cli_runner
    result = runner.invoke(cli, ["squash", "--project", "demo", "--name", "flat", *ids])
    assert result.exit_code == 0, result.output
    new_id, ref = result.stdout.split()
    assert ref == "demo/flat@1.0.0"
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "c2")
    assert snapshot(Dataset.get(new_id, store=store).get_local_copy()) == expected
    result = runner.invoke(cli, ["squash", "--project", "demo", "--name", "flat", ids[0], "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["squashed_from"] == [ids[0]] and doc["parents"] == []
    assert doc["ref"] == "demo/flat@1.0.1" and doc["state"] == "final"
    bad = runner.invoke(cli, ["squash", "--project", "demo", "--name", "flat", "f" * 32])
    assert bad.exit_code == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    usage = runner.invoke(cli, ["squash", "--project", "demo", "--name", "flat"])
    assert usage.exit_code == 2
