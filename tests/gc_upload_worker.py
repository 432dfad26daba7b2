"""A second process that uploads into a draft while a test runs gc (test_gc_reclaim*).

Run: ``python -m tests.gc_upload_worker STORE_URL OPTIONS_JSON CACHE DRAFT_ID WORK REUSED N``.
Adds ``N`` batches of random small files (``WORK/batch<n>``, written here), and at the
third batch the folder ``REUSED`` (content that may already be in the store, old).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dsops import Dataset, Store
from tests.helpers import random_tree

BATCH_FILES = 15


def main(argv: list[str]) -> None:
    url, options, cache, draft_id, work, reused, batches = argv
    store = Store(url, cache_dir=cache, **json.loads(options))
    draft = Dataset.get(draft_id, store=store)
    for n in range(int(batches)):
        random_tree(Path(work) / f"batch{n}", BATCH_FILES, seed=1000 + n, max_size=5000)
        draft.add_files(Path(work) / f"batch{n}", dataset_path=f"batch{n}")
        if n == 2:
            draft.add_files(reused, dataset_path="reused")
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
