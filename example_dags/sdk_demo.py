"""End-to-end demo of the dsops SDK on the embedded local store (no server needed).

create → add → finalize → child version with changes → finalize → fetch → lineage.
Run: ``python example_dags/sdk_demo.py`` (uses ``$DSOPS_STORE`` if set).
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from dsops import Dataset


def make_files(root: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(count):
        path = root / f"class_{i % 3}" / f"img_{i:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(100, 4000)))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="dsops-demo-"))
    make_files(work / "raw", 30, seed=1)

    base = Dataset.create(
        project="demo", name="images", parents=["latest"], description="first batch"
    )
    print("draft", base.id, "summary:", base.add_files(work / "raw"))
    base.finalize()
    print("finalized", base.ref)

    child = Dataset.create(
        project="demo",
        name="images",
        parents=[base.id],
        description="second batch, one class dropped",
    )
    make_files(work / "raw", 45, seed=2)  # rewrite 30 files, add 15
    for stale in (work / "raw" / "class_2").glob("*"):
        stale.unlink()
    print("sync summary:", child.sync_folder(work / "raw"))
    child.finalize()
    print("finalized", child.ref)

    folder = Path(child.get_local_copy())
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    print(f"fetched {len(files)} files into {folder}")
    print(
        "added",
        len(child.list_added_files()),
        "modified",
        len(child.list_modified_files()),
        "removed",
        len(child.list_removed_files()),
    )
    print("lineage:")
    for record in child.lineage():
        print(
            f"  {record.ref}  id={record.id}  parents={list(record.parents)}  "
            f"files={record.file_count}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
