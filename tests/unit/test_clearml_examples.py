"""ClearML's own ``examples/datasets/`` scripts, rewritten to import ``dsops.clearml`` and to
read generated local folders instead of downloading (CIFAR, Iris CSV, MNIST, UrbanSound8K),
run end to end; their results are checked: files, bytes, lineage, versions.

Each script is written here from ClearML's public examples, keeping its calls and
arguments; what needs a ClearML server (``Task.init``, ``task.connect``, artifacts) is
replaced by its dsops equivalent and said so where it happens.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from dsops.clearml import Dataset

PROJECT = "dataset_examples"


def _files(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _tree(folder: str | Path) -> dict[str, bytes]:
    root = Path(folder)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _cifar(tmp_path: Path) -> Path:
    """A stand-in for the extracted ``cifar-10-python.tar.gz`` (same file names)."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta", "readme.html"]
    return _files(
        tmp_path / "download" / "cifar",
        {f"cifar-10-batches-py/{n}": n.encode() * 50 for n in names},
    )


def _mnist(tmp_path: Path) -> Path:
    """A stand-in for ``MNIST.zip``: ``TRAIN/<digit>/*.png`` and ``TEST/<digit>/*.png``."""
    files = {}
    for split, count in (("TRAIN", 4), ("TEST", 2)):
        for digit in range(3):
            for i in range(count):
                files[f"{split}/{digit}/{i}.png"] = f"{split}{digit}{i}".encode() * 20
    return _files(tmp_path / "download" / "MNIST", files)


# ---- dataset_creation.py, then data_ingestion.py -------------------------------------


def test_dataset_creation_then_data_ingestion(tmp_path: Path) -> None:
    dataset_path = _cifar(tmp_path)  # StorageManager.get_local_copy(remote_url=...cifar...)

    dataset = Dataset.create(dataset_name="cifar_dataset", dataset_project="dataset_examples")
    # Prepare and clean data here before it is added to the dataset
    dataset.add_files(path=dataset_path)
    dataset.upload()
    dataset.finalize()

    # data_ingestion.py (Task.init / task.connect: no server; the training loop is left out)
    local = Dataset.get(
        dataset_name="cifar_dataset", dataset_project="dataset_examples", only_completed=False
    ).get_local_copy()
    assert _tree(local) == _tree(dataset_path)
    assert Path(local, "cifar-10-batches-py", "data_batch_1").read_bytes() == b"data_batch_1" * 50
    assert dataset.version == "1.0.0"


# ---- csv_dataset_creation.py ---------------------------------------------------------


def test_csv_dataset_creation(tmp_path: Path) -> None:
    csv_file_path = tmp_path / "download" / "Iris_Species.csv"
    csv_file_path.parent.mkdir(parents=True)
    with csv_file_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Id", "SepalLengthCm", "Species"])
        writer.writerows([[i, 5.0 + i / 10, "Iris-setosa"] for i in range(1, 11)])

    simple_dataset = Dataset.create(dataset_project="dataset_examples", dataset_name="CSV_Dataset")
    simple_dataset.add_files(path=csv_file_path)
    simple_dataset.upload()
    simple_dataset.finalize()

    got = Dataset.get(dataset_project="dataset_examples", dataset_name="CSV_Dataset")
    assert got.list_files() == ["Iris_Species.csv"]
    text = Path(got.get_local_copy(), "Iris_Species.csv").read_text()
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) == 11 and rows[1][2] == "Iris-setosa"


# ---- the MNIST scripts: ClearML's names have spaces and nested projects ---------------

NAME_STYLES = [
    pytest.param(
        ("dataset_examples/MNIST", "MNIST Training Dataset", "MNIST Testing Dataset",
         "MNIST Complete Dataset", "MNIST Complete Dataset (Syncing Example)"),
        id="clearml-names",
    ),
    pytest.param(
        ("dataset_examples/MNIST", "MNIST_Training_Dataset", "MNIST_Testing_Dataset",
         "MNIST_Complete_Dataset", "MNIST_Complete_Dataset_Syncing_Example"),
        id="plain-names",
    ),
]  # fmt: skip


@pytest.mark.parametrize("names", NAME_STYLES)
def test_single_parent_child_dataset(tmp_path: Path, names: tuple[str, ...]) -> None:
    _, training, _, complete, _ = names
    mnist = _mnist(tmp_path)
    mnist_dataset_train, mnist_dataset_test = mnist / "TRAIN", mnist / "TEST"

    mnist_dataset = Dataset.create(dataset_project="dataset_examples", dataset_name=training)
    mnist_dataset.add_files(path=mnist_dataset_train, dataset_path="TRAIN")
    mnist_dataset.upload()
    mnist_dataset.finalize()

    child_dataset = Dataset.create(
        dataset_project="dataset_examples",
        dataset_name=complete,
        parent_datasets=[mnist_dataset.id],
    )
    child_dataset.add_files(path=mnist_dataset_test, dataset_path="TEST")
    child_dataset.upload()
    child_dataset.finalize()

    assert _tree(child_dataset.get_local_copy()) == _tree(mnist)
    assert child_dataset.get_dependency_graph() == {
        child_dataset.id: [mnist_dataset.id],
        mnist_dataset.id: [],
    }
    assert child_dataset.list_added_files() == sorted(
        f"TEST/{p}" for p in _tree(mnist_dataset_test)
    )
    assert child_dataset.list_files(dataset_id=mnist_dataset.id) == mnist_dataset.list_files()
    assert (child_dataset.name, child_dataset.version) == (complete, "1.0.0")


@pytest.mark.parametrize("names", NAME_STYLES)
def test_multi_parent_child_dataset(tmp_path: Path, names: tuple[str, ...]) -> None:
    project, training, testing, complete, _ = names
    mnist = _mnist(tmp_path)

    train_dataset = Dataset.create(dataset_project=project, dataset_name=training)
    train_dataset.add_files(path=mnist / "TRAIN", dataset_path="TRAIN")
    train_dataset.upload()
    train_dataset.finalize()

    test_dataset = Dataset.create(dataset_project=project, dataset_name=testing)
    test_dataset.add_files(path=mnist / "TEST", dataset_path="TEST")
    test_dataset.upload()
    test_dataset.finalize()

    child_dataset = Dataset.create(
        dataset_project=project,
        dataset_name=complete,
        parent_datasets=[train_dataset.id, test_dataset.id],
    )
    child_dataset.upload()
    child_dataset.finalize()

    assert _tree(child_dataset.get_local_copy()) == _tree(mnist)
    assert child_dataset.get_dependency_graph() == {
        child_dataset.id: [train_dataset.id, test_dataset.id],
        train_dataset.id: [],
        test_dataset.id: [],
    }
    listed = Dataset.list_datasets(dataset_project="dataset_examples")
    assert {(d["project"], d["name"]) for d in listed} == {
        (project, training),
        (project, testing),
        (project, complete),
    }
    assert child_dataset.list_added_files() == []  # all content comes from the parents


@pytest.mark.parametrize("names", NAME_STYLES)
def test_dataset_folder_syncing(
    tmp_path: Path, names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    syncing = names[4]
    mnist = _mnist(tmp_path)
    monkeypatch.chdir(tmp_path)
    mnist_path = Path("MNIST_0123")
    mnist_train_path, mnist_test_path = mnist_path / "TRAIN", mnist_path / "TEST"
    mnist_path.mkdir()

    mnist_dataset = Dataset.create(dataset_project="dataset_examples", dataset_name=syncing)

    shutil.copytree(mnist / "TRAIN", mnist_train_path)
    assert mnist_dataset.sync_folder(mnist_path) == (0, 12, 0)
    mnist_dataset.upload()

    shutil.copytree(mnist / "TEST", mnist_test_path)
    assert mnist_dataset.sync_folder(mnist_path) == (0, 6, 0)
    mnist_dataset.upload()

    mnist_dataset.finalize()

    assert _tree(mnist_dataset.get_local_copy()) == _tree(mnist)
    assert mnist_dataset.get_dependency_graph() == {mnist_dataset.id: []}
    assert mnist_dataset.verify_dataset_hash(local_copy_path=mnist_path) == []


# ---- urbansounds_get_data.py, then urbansounds_dataset_preprocessing.py ----------------

CLASSES = ["dog_bark", "siren", "jackhammer"]


def _urbansound8k(tmp_path: Path) -> Path:
    """A stand-in for the extracted ``UrbanSound8K.zip``: audio/fold<k>/*.wav and the
    metadata CSV (``slice_file_name, fold, classID, class``)."""
    root = tmp_path / "download" / "UrbanSound8K"
    rows = []
    for i in range(9):
        fold, cls = 1 + i % 2, CLASSES[i % 3] if i != 8 else "air_conditioner"
        name = f"{i}-{cls}.wav"
        rows.append([name, fold, i % 3, cls])
        _files(root / "audio", {f"fold{fold}/{name}": f"RIFF{i}".encode() * 30})
    (root / "metadata").mkdir(parents=True)
    with (root / "metadata" / "UrbanSound8K.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["slice_file_name", "fold", "classID", "class"])
        writer.writerows(rows)
    return root


def test_urbansounds_get_data_then_preprocessing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pd = pytest.importorskip("pandas")
    root = _urbansound8k(tmp_path)
    monkeypatch.chdir(tmp_path)
    configuration = {"selected_classes": CLASSES}  # task.connect(configuration): no server

    # -- urbansounds_get_data.py: build_clearml_dataset()
    path_to_urbansound8k_csv = root / "metadata" / "UrbanSound8K.csv"
    path_to_urbansound8k_audio = root / "audio"
    urbansound8k_metadata = pd.read_csv(path_to_urbansound8k_csv)
    urbansound8k_metadata = urbansound8k_metadata[
        urbansound8k_metadata["class"].isin(configuration["selected_classes"])
    ]
    metadata = pd.DataFrame(
        {
            "fold": urbansound8k_metadata.loc[:, "fold"],
            "filepath": (
                "fold"
                + urbansound8k_metadata.loc[:, "fold"].astype(str)
                + "/"
                + urbansound8k_metadata.loc[:, "slice_file_name"].astype(str)
            ),
            "label": urbansound8k_metadata.loc[:, "classID"],
        }
    )
    dataset = Dataset.create(
        dataset_name="UrbanSounds example",
        dataset_project="examples/Urbansounds",
        dataset_tags=["raw"],
    )
    dataset.add_files(path_to_urbansound8k_audio)
    # ClearML: dataset._task.upload_artifact(name="metadata", artifact_object=metadata)
    dataset.set_metadata(metadata, metadata_name="metadata")
    histogram_data = urbansound8k_metadata["class"].value_counts()
    dataset.get_logger().report_table(
        title="Raw Dataset Metadata", series="Raw Dataset Metadata", table_plot=metadata
    )
    dataset.get_logger().report_histogram(
        title="Class distribution",
        series="Class distribution",
        values=histogram_data,
        iteration=0,
        xlabels=histogram_data.index.tolist(),
        yaxis="Amount of samples",
    )
    dataset.finalize(auto_upload=True)

    # -- urbansounds_dataset_preprocessing.py: DataSetBuilder
    original_dataset = Dataset.get(
        dataset_project="examples/Urbansounds",
        dataset_name="UrbanSounds example",
        dataset_tags=["raw"],
        alias="Raw Dataset",
    )
    # ClearML: Task.get_task(task_id=original_dataset._task.id).artifacts["metadata"].get()
    meta = original_dataset.get_metadata("metadata")
    assert list(meta["filepath"]) == list(metadata["filepath"])
    original_dataset_path = Path(original_dataset.get_mutable_local_copy("dataset", overwrite=True))

    preprocessed_dataset = Dataset.create(
        dataset_name="UrbanSounds example",
        dataset_project="examples/Urbansounds",
        dataset_tags=["preprocessed"],
        parent_datasets=[original_dataset.id],
    )
    for i, (_, data) in enumerate(meta.iterrows()):
        _, audio_file_path, _label = data.tolist()
        sample = (original_dataset_path / audio_file_path).read_bytes()  # torchaudio.load
        spectrogram_path = original_dataset_path / audio_file_path.replace(".wav", ".npy")
        spectrogram_path.write_bytes(sample[::-1])  # np.save(preprocess_sample(...))
        if i % 10 == 0:
            preprocessed_dataset.get_logger().report_image(
                title="t", series="spectrogram", image=None
            )
            preprocessed_dataset.get_logger().report_media(
                title="t", series="original_audio", local_path=original_dataset_path
            )
    preprocessed_dataset.add_files(original_dataset_path)
    preprocessed_dataset.set_metadata(meta, metadata_name="metadata")
    preprocessed_dataset.finalize(auto_upload=True)

    expected_npy = sorted(p.replace(".wav", ".npy") for p in metadata["filepath"])
    assert preprocessed_dataset.list_added_files() == expected_npy
    assert preprocessed_dataset.list_files("*.wav") == original_dataset.list_files()
    assert preprocessed_dataset.version == "1.0.1"
    assert preprocessed_dataset.get_dependency_graph()[preprocessed_dataset.id] == [
        original_dataset.id
    ]
    raw = Dataset.get(
        dataset_project="examples/Urbansounds",
        dataset_name="UrbanSounds example",
        dataset_tags=["raw"],
    )
    assert raw.id == original_dataset.id  # the tag still finds the raw version
    newest = Dataset.get(dataset_project="examples/Urbansounds", dataset_name="UrbanSounds example")
    assert newest.id == preprocessed_dataset.id
    assert len(newest.get_metadata()) == len(metadata)
