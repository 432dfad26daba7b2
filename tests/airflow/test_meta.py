"""Meta-tests over every operator and sensor, in the spirit of Airflow's own checks.

Airflow renders ``template_fields`` by attribute name after ``__init__``, so each field
must be an ``__init__`` argument stored unchanged under the same name (Airflow's
``validate_operators_init`` pre-commit check); arguments must be keyword-only; and the
OpenLineage method must describe the versions a task read and wrote.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG, BaseOperator

import airflow_provider.operators as operators
import airflow_provider.sensors as sensors
from airflow_provider.operators import (
    AddFilesOperator,
    CreateDatasetOperator,
    FetchDatasetOperator,
    FinalizeDatasetOperator,
)

CLASSES = sorted(
    (
        obj
        for module in (operators, sensors)
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseOperator) and obj.template_fields
    ),
    key=lambda cls: cls.__name__,
)
REQUIRED = {
    "CreateDatasetOperator": {"project": "p", "name": "n"},
    "AddFilesOperator": {"version_id": "v", "source": "s"},
    "SyncFolderOperator": {"version_id": "v", "folder": "f"},
    "RemoveFilesOperator": {"version_id": "v", "patterns": "*.tmp"},
    "FinalizeDatasetOperator": {"version_id": "v"},
    "FetchDatasetOperator": {"dataset": "p/n@latest"},
    "PruneDatasetOperator": {"project": "p", "name": "n"},
    "DeleteDatasetOperator": {"ref": "p/n@1.0.0"},
    "DatasetVersionSensor": {"dataset": "p/n"},
}


def test_every_public_operator_and_sensor_is_covered():
    assert {cls.__name__ for cls in CLASSES} == set(REQUIRED)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_template_fields_are_init_arguments_assigned_unchanged(cls: type[BaseOperator]):
    init = ast.parse(textwrap.dedent(inspect.getsource(cls.__init__))).body[0]
    assert isinstance(init, ast.FunctionDef)
    keyword_only = {a.arg for a in init.args.kwonlyargs}
    assert not [a.arg for a in init.args.args if a.arg != "self"], "arguments are keyword-only"
    assigned = {
        target.attr: node.value.id
        for node in ast.walk(init)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name)
        for target in node.targets
        if isinstance(target, ast.Attribute)
    }
    for field in cls.template_fields:
        assert field in keyword_only, f"{field} is not an __init__ argument"
        assert assigned.get(field) == field, f"self.{field} = {field} missing or transformed"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_template_fields_exist_after_init_and_render(cls: type[BaseOperator]):
    arguments = {k: "{{ params.value }}" for k in REQUIRED[cls.__name__]}
    with DAG(dag_id=f"meta_{cls.__name__}", schedule=None, start_date=datetime(2024, 1, 1)):
        task = cls(task_id="t", **arguments)
    for field in cls.template_fields:
        assert hasattr(task, field)
    task.render_template_fields({"params": {"value": "rendered"}})
    for field in REQUIRED[cls.__name__]:
        assert getattr(task, field) == "rendered"


def test_xcomarg_arguments_set_the_upstream_dependency():
    with DAG(dag_id="meta_chain", schedule=None, start_date=datetime(2024, 1, 1)):
        create = CreateDatasetOperator(task_id="create", project="p", name="n")
        add = AddFilesOperator(task_id="add", version_id=create.output, source="/data")
        mapped = AddFilesOperator.partial(task_id="shard", version_id=create.output).expand(
            source=["/a", "/b"]
        )
        finalize = FinalizeDatasetOperator(task_id="finalize", version_id=add.output)
    assert add.upstream_task_ids == {"create"}
    assert mapped.upstream_task_ids == {"create"}
    assert finalize.upstream_task_ids == {"add"}


def test_openlineage_facets_carry_the_versions(context, tmp_path):
    pytest.importorskip("airflow.providers.openlineage")
    from dsops import Dataset

    parent = Dataset.create("demo", "raw").finalize()
    draft = CreateDatasetOperator(
        task_id="create", project="demo", name="clean", parents=[parent]
    ).execute(context)
    (tmp_path / "f.txt").write_text("x")
    Dataset.get(draft).add_files(tmp_path / "f.txt")
    finalize = FinalizeDatasetOperator(task_id="finalize", version_id=draft)
    version_id = finalize.execute(context)
    lineage: Any = finalize.get_openlineage_facets_on_complete(None)
    (source,) = lineage.inputs
    (output,) = lineage.outputs
    assert (source.namespace, source.name) == ("dsops", "demo/raw")
    assert source.facets["version"].datasetVersion == parent
    assert (output.namespace, output.name) == ("dsops", "demo/clean")
    assert output.facets["version"].datasetVersion == version_id

    fetch = FetchDatasetOperator(task_id="fetch", dataset="demo/clean@latest")
    fetch.execute(context)
    (read,) = fetch.get_openlineage_facets_on_complete(None).inputs
    assert read.facets["version"].datasetVersion == version_id
