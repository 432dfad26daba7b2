"""Keys inside a store root: the storage format's single source of truth in code.

See ``docs/FORMAT.md`` for the meaning of each key.
"""

from __future__ import annotations

import string
from urllib.parse import unquote

FORMAT_VERSION = 1
MARKER = "dsops.json"

# Limits a manifest row is checked against (see "Manifest validation" in FORMAT.md).
MAX_PACK_SIZE = 64 * 1024 * 1024
MAX_OBJECT_SIZE = 1 << 50  # 1 PiB: a larger recorded size is corruption, not a file

# The URL schemes an external file (a manifest row's ``link``) may name.
LINK_SCHEMES = ("s3", "gs", "az", "http", "https", "file")


def object_key(digest: str) -> str:
    return f"objects/{digest[:2]}/{digest}"


def pack_key(pack_id: str) -> str:
    return f"packs/{pack_id}"


def manifest_key(version_id: str) -> str:
    return f"manifests/{version_id}.parquet"


def version_key(version_id: str) -> str:
    return f"versions/{version_id}.json"


VERSIONS_PREFIX = "versions/"


_KEY_SAFE = frozenset(string.ascii_letters + string.digits + "._-")


def key_segment(text: str) -> str:
    """One project segment or dataset name as it appears in keys (FORMAT.md, "Names"):
    every UTF-8 byte of a character other than ``A-Z a-z 0-9 . _ -`` as ``%XX``, so a
    plain name is its own key segment.

    Example:
        >>> key_segment("cats"), key_segment("MNIST Training Dataset"), key_segment("é%")
        ('cats', 'MNIST%20Training%20Dataset', '%C3%A9%25')
    """
    return "".join(c if c in _KEY_SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def dataset_key(project: str, name: str) -> str:
    """``<project segments>/<name>``, each escaped with :func:`key_segment`."""
    return "/".join(key_segment(p) for p in [*project.split("/"), name])


def parse_dataset_key(text: str) -> tuple[str, str]:
    """The ``(project, name)`` a :func:`dataset_key` names.

    Example:
        >>> parse_dataset_key("dataset_examples/MNIST/MNIST%20Training%20Dataset")
        ('dataset_examples/MNIST', 'MNIST Training Dataset')
    """
    parts = [unquote(p, errors="strict") for p in text.split("/")]
    return "/".join(parts[:-1]), parts[-1]


def names_prefix(project: str, name: str) -> str:
    return f"names/{dataset_key(project, name)}/"


def name_key(project: str, name: str, semver: str) -> str:
    return f"names/{dataset_key(project, name)}/{semver}"


def ref_key(project: str, name: str, alias: str) -> str:
    return f"refs/{dataset_key(project, name)}/{alias}"


def refs_prefix(project: str, name: str) -> str:
    return f"refs/{dataset_key(project, name)}/"


def draft_key(version_id: str) -> str:
    return f"drafts/{version_id}/draft.json"


def parts_prefix(version_id: str) -> str:
    return f"drafts/{version_id}/parts/"


def part_key(version_id: str, part_id: str) -> str:
    return f"drafts/{version_id}/parts/{part_id}.parquet"


def seal_key(version_id: str) -> str:
    """Create-only marker: finalize has begun, the draft accepts no more changes."""
    return f"drafts/{version_id}/sealed.json"


def sealed_parts_key(version_id: str) -> str:
    """Create-only list of the parts a sealed draft's version is made of."""
    return f"drafts/{version_id}/sealed-parts.json"


def state_key(version_id: str) -> str:
    """Compare-and-swap document: description, tags, published, metadata of an id."""
    return f"state/{version_id}.json"


STATE_PREFIX = "state/"


def tombstone_key(version_id: str) -> str:
    """Create-only: the commit point of a delete (holds the deleted record)."""
    return f"deleted/{version_id}.json"


DELETED_PREFIX = "deleted/"


def rename_key(project: str, name: str) -> str:
    """Create-only: the commit point of a rename/move, naming where the dataset went."""
    return f"renames/{dataset_key(project, name)}.json"


RENAMES_PREFIX = "renames/"


def rename_target_key(project: str, name: str) -> str:
    """Create-only claim of a rename's target name, written before the marker."""
    return f"renames-to/{dataset_key(project, name)}.json"


RENAME_TARGETS_PREFIX = "renames-to/"


def index_key(project: str, name: str) -> str:
    """Compare-and-swap listing index of one dataset: a checked cache, never the truth.

    ``@`` is escaped in every name segment, so ``@index.json`` is never a dataset's own
    segment and the key never collides with another dataset's keys.
    """
    return f"{INDEX_PREFIX}{dataset_key(project, name)}/@index.json"


INDEX_PREFIX = "index/"
