"""A ClearML-style script inside Prefect tasks (docs/PREFECT.md, "ClearML scripts in a
task"): one flow run; the version id flows between tasks as a task result."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from dsops import Dataset
from dsops.clearml import Dataset as ClearmlDataset  # was: from clearml import Dataset


@task
def register(source: str) -> str:
    ds = ClearmlDataset.get(
        dataset_project="examples",
        dataset_name="prefect_raw",
        auto_create=True,
        dataset_tags=["raw"],
    )
    ds.add_files(source, wildcard="*.csv", dataset_path="tables")
    ds.upload()
    ds.finalize()
    return ds.id


@task
def child(parent_id: str, source: str) -> str:
    ds = ClearmlDataset.create(
        dataset_project="examples", dataset_name="prefect_raw", parent_datasets=[parent_id]
    )
    ds.remove_files("tables/b.csv")
    ds.add_files(source, wildcard="*.json", dataset_path="meta")
    ds.finalize()
    return ds.id


@task
def read(dataset_id: str) -> list[str]:
    folder = Path(ClearmlDataset.get(dataset_id=dataset_id).get_local_copy())
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_clearml_script_runs_in_prefect_tasks(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("a.csv", "b.csv", "c.json", "skip.txt"):
        (source / name).write_text(name)

    @flow
    def pipeline() -> tuple[str, str, list[str]]:
        first = register(str(source))
        second = child(first, str(source))
        return first, second, read(second)

    first, second, files = pipeline()
    assert files == ["meta/c.json", "tables/a.csv"]
    version = Dataset.get(second)
    assert version.parents == [first] and version.version == "1.0.1"
    assert Dataset.get(first).tags == ["raw"]
    assert ClearmlDataset.get(dataset_id=second).list_removed_files() == ["tables/b.csv"]
