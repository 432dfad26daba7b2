"""fsspec's own abstract tests that apply to a read-only filesystem (``get``: copying out
of dsops), run the way fsspec's implementations run them, on versions built with the
layouts fsspec's fixtures would otherwise write (dsops:// cannot write them itself)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from hashlib import md5
from pathlib import Path

import pytest
from fsspec.tests.abstract import AbstractFixtures, AbstractGetTests

from dsops import Dataset, Store
from dsops.fs import DsopsFileSystem
from tests.helpers import write_tree

SCENARIO_0 = ["file1", "file2", "subdir/subfile1", "subdir/subfile2", "subdir/nesteddir/nestedfile"]
GLOB_EDGE_CASES = ["file1", "file2"] + [
    f"subdir{i}/{name}"
    for i in range(2)
    for name in ("subfile1", "subfile2", "nesteddir/nestedfile")
]
SAME_NAME_PREFIX = ["subdir.txt", "subdir/subfile.txt"]


class DsopsFixtures(AbstractFixtures):  # type: ignore[misc]
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")

    @pytest.fixture
    def fs(self, store: Store) -> DsopsFileSystem:
        return DsopsFileSystem(store=store)

    @pytest.fixture
    def fs_join(self) -> Callable[..., str]:
        return posixpath.join

    @pytest.fixture
    def fs_path(self) -> str:
        return ""

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return False  # folders exist only as the paths of files

    @staticmethod
    def _version(store: Store, root: Path, files: dict[str, bytes | str]) -> str:
        ds = Dataset.create("fsspec", "abstract", store=store)
        ds.add_files(write_tree(root, {f"source/{k}": v for k, v in files.items()}))
        return f"{ds.finalize()}/source"

    @pytest.fixture
    def fs_bulk_operations_scenario_0(self, store: Store, tmp_path: Path) -> str:
        return self._version(store, tmp_path / "s0", dict.fromkeys(SCENARIO_0, b""))

    @pytest.fixture
    def fs_glob_edge_cases_files(self, store: Store, tmp_path: Path) -> str:
        return self._version(store, tmp_path / "glob", dict.fromkeys(GLOB_EDGE_CASES, b""))

    @pytest.fixture
    def fs_dir_and_file_with_same_name_prefix(self, store: Store, tmp_path: Path) -> str:
        return self._version(store, tmp_path / "prefix", dict.fromkeys(SAME_NAME_PREFIX, b""))

    @pytest.fixture
    def fs_10_files_with_hashed_names(self, store: Store, tmp_path: Path) -> str:
        files = {f"{md5(str(i).encode()).hexdigest()}.txt": f"{i}" for i in range(10)}
        return self._version(store, tmp_path / "hashed", dict(files))


class TestDsopsGet(AbstractGetTests, DsopsFixtures):  # type: ignore[misc]
    def test_get_directory_recursive(  # type: ignore[override]
        self,
        fs: DsopsFileSystem,
        store: Store,
        tmp_path: Path,
        fs_join: Callable[..., str],
        local_fs: object,
        local_join: Callable[..., str],
        local_target: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # fsspec's test makes <fs_path>/src/file with mkdir and touch: here a version
        # holds it, and fsspec's own assertions run with fs_path = that version.
        write_tree(tmp_path / "src-tree", {"src/file": b""})
        ds = Dataset.create("fsspec", "recursive", store=store)
        ds.add_files(tmp_path / "src-tree")
        version = ds.finalize()
        monkeypatch.setattr(fs, "mkdir", lambda *a, **k: None)
        monkeypatch.setattr(fs, "touch", lambda *a, **k: None)
        super().test_get_directory_recursive(
            fs, fs_join, version, local_fs, local_join, local_target
        )
