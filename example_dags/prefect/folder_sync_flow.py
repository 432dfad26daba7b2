"""Folder sync: mirror a folder into a dataset, one version per real change, none otherwise.

The sync adds new files, replaces changed ones and removes deleted ones in a draft built
on the latest version; finalize with ``skip_if_unchanged`` turns a sync that changed
nothing into no version at all and returns the current version's id.

    python example_dags/prefect/folder_sync_flow.py            # demo: sync, sync again, edit
    python example_dags/prefect/folder_sync_flow.py --folder /srv/labels --store my-store
"""

from __future__ import annotations

import argparse

from demo_data import PROJECT, demo_folder, write_readings
from prefect import flow

from prefect_tasks import create_dataset, finalize_dataset, sync_folder


@flow(name="dsops-folder-sync")
def folder_sync(
    folder: str, project: str = PROJECT, name: str = "synced-folder", store: str | None = None
) -> str:
    """Mirror ``folder`` into ``project/name``; return the id of the version that matches it."""
    draft = create_dataset(project, name, parents=["latest"], store=store)
    draft = sync_folder(draft, folder, store=store)
    return finalize_dataset(draft, store=store, skip_if_unchanged=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", help="folder to mirror (default: a demo folder)")
    parser.add_argument("--store", help="DsopsStore block name or store URL")
    args = parser.parse_args()
    if args.folder:
        print("version:", folder_sync(args.folder, store=args.store))
        return
    folder = demo_folder("synced")
    write_readings(folder, seed=2)
    first = folder_sync(str(folder), store=args.store)
    again = folder_sync(str(folder), store=args.store)
    print("first sync:", first, "| unchanged sync returns the same version:", again == first)
    write_readings(folder, seed=3, files=1)
    print("after adding a file:", folder_sync(str(folder), store=args.store))


if __name__ == "__main__":
    main()
