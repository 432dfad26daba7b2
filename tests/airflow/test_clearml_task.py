"""A ClearML-style script inside Airflow tasks (docs/AIRFLOW.md, "ClearML scripts in a
task"): one real ``dag.test()`` run; the version id flows between tasks as an XCom."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsops import Dataset

pytestmark = pytest.mark.slow

_DAG = """
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

SOURCE = {source!r}


@dag(dag_id="clearml_style", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def clearml_style():
    @task
    def register() -> str:
        from dsops.clearml import Dataset  # was: from clearml import Dataset

        parent = Dataset.get(dataset_project="examples", dataset_name="raw",
                             only_completed=True, auto_create=False)
        ds = Dataset.create(dataset_project="examples", dataset_name="raw",
                            parent_datasets=[parent.id], dataset_tags=["daily"])
        ds.sync_folder(SOURCE)
        ds.upload()
        ds.finalize()
        return ds.id

    @task
    def train(dataset_id: str) -> list[str]:
        from pathlib import Path

        from dsops.clearml import Dataset

        folder = Path(Dataset.get(dataset_id=dataset_id).get_local_copy())
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.csv"))

    train(register())


clearml_style()
"""


def test_a_clearml_script_runs_in_airflow_tasks(airflow_home: Path, tmp_path: Path) -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    from airflow_provider.testing import dag_test
    from dsops.clearml import Dataset as ClearmlDataset
    from tests.airflow.test_example_dags import task_states, xcom

    source = tmp_path / "landing"
    (source / "day").mkdir(parents=True)
    (source / "day" / "a.csv").write_text("x,y\n1,2\n")
    first = ClearmlDataset.create(dataset_project="examples", dataset_name="raw")
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "old.csv").write_text("old")
    first.add_files(tmp_path / "seed")
    first.finalize()

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "clearml_style.py").write_text(_DAG.format(source=str(source)))
    bag = DagBag(dag_folder=str(dags))
    assert not bag.import_errors, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    run = dag_test(bag.dags["clearml_style"])
    assert str(run.state) == "success", task_states(run)

    new_id = xcom(run, "register")
    version = Dataset.get(new_id)
    assert version.parents == [first.id] and version.version == "1.0.1"
    assert version.list_files() == ["day/a.csv"]  # sync_folder mirrored: old.csv removed
    assert version.tags == ["daily"]
    assert xcom(run, "train") == ["day/a.csv"]
