"""Hostile stores (a bucket someone else can write to), fuzzed with hypothesis.

Whatever a hostile writer puts in the store — manifests with generated rows (traversal,
absolute and drive paths, NUL, backslashes, over-long names, duplicates, a path that is
both a file and a folder, sizes and offsets of any int64), Parquet of the wrong shape,
JSON of any shape where records, refs, claims, state documents, tombstones and rename
markers belong — every public read either works or raises a ``DsopsError`` that says
what is wrong; no other exception escapes, nothing is written outside the target folder,
and no zip entry name can escape the folder it is extracted into.

The examples are derandomized (the same ones on every run), so a failure here is a
reproducible bug, never a flake.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import dsops.manifest.io as mio
from dsops import Dataset, Store, layout
from dsops.errors import DsopsError
from dsops.hashing import hash_bytes
from dsops.manifest.schema import MANIFEST_SCHEMA
from dsops.ui.zipstream import stream_zip
from tests.helpers import replace_manifest, write_tree

FUZZ = settings(
    derandomize=True,
    max_examples=int(os.environ.get("DSOPS_FUZZ_EXAMPLES", "120")),
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # no slow "explain" phase
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_PATHS = [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd",
    "/tmp/escape.txt",
    "C:/Windows/escape.txt",
    "C:escape.txt",
    "a\\..\\..\\escape.txt",
    "\\\\server\\share\\x",
    "a\x00b",
    "",
    ".",
    "..",
    "a/./b",
    "a//b",
    "a/",
    "~/.ssh/authorized_keys",
    "x" * 300,
    "/".join(["d"] * 200),
    "a/b\nc",
    "link -> /etc/passwd",
    "a",  # with "a/b" below: both a file and a folder
    "a/b",
]
_ALPHABET = st.sampled_from([*"ab./\\\x00~:- ", "é", "\u202e", "\x7f"])
paths = st.one_of(st.sampled_from(HOSTILE_PATHS), st.text(_ALPHABET, max_size=12))
int64 = st.one_of(
    st.integers(-3, 5000), st.sampled_from([-(2**63), 2**63 - 1, 2**40, 2**50 + 1, 2**62])
)


class Originals(dict[str, bytes]):
    """Every key's bytes (a short repr: hypothesis prints the fixture on a failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} original keys>"


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[Store, Dataset, dict[str, bytes]]]:
    """A store with one version (three files in one pack, one in its own object) and
    every key's original bytes, to restore between examples."""
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache0")
    src = write_tree(
        tmp_path / "src",
        {"a/one.txt": "one", "a/two.txt": "two!", "b.txt": "bee", "big.bin": os.urandom(300_000)},
    )
    ds = Dataset.create(project="p", name="v", store=store)
    ds.add_files(src)
    ds.finalize(alias="prod")
    ds.set_metadata({"rows": 3}, name="stats")
    original = Originals({key: store.backend.get(key) for key in store.backend.list_keys("")})
    yield store, ds, original


def _restore(store: Store, original: dict[str, bytes]) -> None:
    backend = store.backend
    for key in backend.list_keys(""):
        if key not in original:
            backend.delete(key)
    for key, data in original.items():
        backend.put(key, data)


def _files_outside(root: Path, allowed: tuple[Path, ...]) -> set[str]:
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if any(here == a or a in here.parents for a in allowed):
            dirnames.clear()
            continue
        found.update(str(here / f) for f in filenames)
    return found


def _attempt(what: str, call: Callable[[], Any]) -> Any:
    """Run a public read: a result, or None after a DsopsError that says something."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # listings warn about skipped corrupt records
            result = call()
    except DsopsError as exc:
        assert str(exc).strip(), f"{what}: a DsopsError with no message"
        event(f"{what}: {type(exc).__name__}")
        return None
    event(f"{what}: ok")
    return result


def _assert_inside(folder: Path) -> None:
    """Every entry under a fetched folder is a plain file or folder inside it."""
    real = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder):
        for entry in [*dirnames, *filenames]:
            path = Path(dirpath) / entry
            assert not path.is_symlink() or path.resolve().is_relative_to(real), path
            assert path.resolve().is_relative_to(real), path


def _safe_zip_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and "\x00" not in name
        and ".." not in pure.parts
        and not (len(name) > 1 and name[1] == ":")
    )


rows = st.lists(
    st.fixed_dictionaries(
        {
            "path": paths,
            "size": int64,
            "hash": st.one_of(st.just("real"), st.text(max_size=70), st.just("../" * 3)),
            "object": st.one_of(
                st.just("real"), st.just(""), st.just("../../escape"), st.text(max_size=20)
            ),
            "offset": int64,
            "length": int64,
            "link": st.one_of(st.just(""), st.just("file:///etc/passwd"), st.text(max_size=10)),
        }
    ),
    min_size=1,
    max_size=5,
)


@FUZZ
@given(generated=rows, keep_real=st.booleans())
def test_a_hostile_manifest_is_refused_or_served_inside_the_target(
    hostile: tuple[Store, Dataset, dict[str, bytes]],
    tmp_path: Path,
    generated: list[dict[str, Any]],
    keep_real: bool,
) -> None:
    store, ds, original = hostile
    _restore(store, original)
    real, meta = store.manifests.load(ds.id)
    table = real.to_pylist() if keep_real else []
    template = real.to_pylist()[0]
    for row in generated:
        row = {**template, **row}
        row["hash"] = template["hash"] if row["hash"] == "real" else row["hash"]
        row["object"] = template["object"] if row["object"] == "real" else row["object"]
        table.append(row)
    replace_manifest(
        store,
        ds.id,
        mio._to_parquet(pa.Table.from_pylist(table, schema=MANIFEST_SCHEMA), meta),
    )
    work = tmp_path / f"ex-{hash_bytes(repr(generated).encode())[:12]}"
    target = work / "deep" / "target"
    fresh = Store(store.url, cache_dir=work / "cache")
    opened = _attempt("get", lambda: Dataset.get(ds.id, store=fresh))
    if opened is not None:
        copy = _attempt("copy", lambda: opened.get_mutable_local_copy(target))
        if copy is not None:
            _assert_inside(Path(copy))
        view = _attempt("view", lambda: opened.get_local_copy())
        if view is not None:
            _assert_inside(Path(view))
        _attempt("list", lambda: opened.list_files())
        _attempt("verify", lambda: opened.verify(deep=True))
        zipped = _attempt("zip", lambda: b"".join(stream_zip(fresh, opened.manifest())))
        if zipped is not None:
            names = zipfile.ZipFile(io.BytesIO(zipped)).namelist()
            assert all(_safe_zip_name(n) for n in names), names
    outside = _files_outside(tmp_path, (work / "cache", target, tmp_path / "store"))
    outside -= {str(p) for p in (tmp_path / "src").rglob("*")}
    outside = {p for p in outside if not p.startswith(str(tmp_path / "cache0"))}
    assert not outside, f"written outside the target: {sorted(outside)[:5]}"


def _wrong_table(kind: str, value: Any) -> bytes:
    columns = {name: pa.array(["x"]) for name in MANIFEST_SCHEMA.names}
    if kind == "missing":
        columns.pop("hash")
    elif kind == "type":
        columns["size"] = pa.array([str(value)])
    elif kind == "nulls":
        columns["path"] = pa.array([None], pa.string())
    elif kind == "nested":
        columns["path"] = pa.array([[1, 2]])
    sink = io.BytesIO()
    table = pa.table(columns)
    meta = {b"dsops": json.dumps(value, default=str).encode()} if kind == "meta" else None
    pq.write_table(table.replace_schema_metadata(meta), sink)
    return sink.getvalue()


@FUZZ
@given(
    kind=st.sampled_from(["missing", "type", "nulls", "nested", "meta", "garbage", "truncated"]),
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
        max_leaves=6,
    ),
    garbage=st.binary(max_size=200),
)
def test_a_manifest_of_the_wrong_shape_is_a_clear_error(
    hostile: tuple[Store, Dataset, dict[str, bytes]],
    tmp_path: Path,
    kind: str,
    value: Any,
    garbage: bytes,
) -> None:
    store, ds, original = hostile
    _restore(store, original)
    if kind == "garbage":
        data = garbage
    elif kind == "truncated":
        data = original[layout.manifest_key(ds.id)][: len(garbage)]
    else:
        data = _wrong_table(kind, value)
    replace_manifest(store, ds.id, data)
    fresh = Store(store.url, cache_dir=tmp_path / "cache-shape")
    opened = _attempt("get", lambda: Dataset.get(ds.id, store=fresh))
    if opened is not None:
        _attempt("list", lambda: opened.list_files())
        _attempt("manifest", lambda: opened.manifest())


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(st.characters(codec="utf-8"), max_size=12)
    | st.sampled_from(["../../x", "/etc/passwd", "a\x00b", "p/v@1.0.0", "0" * 32]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def _plausible(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A real JSON document with some fields replaced (hostile but shaped)."""
    return {**record, **changes}


def _keys(ds: Dataset) -> dict[str, str]:
    return {
        "record": layout.version_key(ds.id),
        "claim": layout.name_key("p", "v", "1.0.0"),
        "latest": layout.ref_key("p", "v", "latest"),
        "alias": layout.ref_key("p", "v", "prod"),
        "state": layout.state_key(ds.id),
        "tombstone": layout.tombstone_key(ds.id),
        "rename": layout.rename_key("p", "v"),
        "rename-target": layout.rename_target_key("p", "w"),
    }


@FUZZ
@given(
    which=st.sampled_from(
        ["record", "claim", "latest", "alias", "state", "tombstone", "rename", "rename-target"]
    ),
    shaped=st.booleans(),
    value=json_values,
    fields=st.dictionaries(
        st.sampled_from(
            [
                "id", "project", "name", "version", "version_id", "parents", "tags",
                "manifest_hash", "created_at", "history", "description", "metadata",
                "published", "labels", "aliases", "squashed_from", "record", "kind",
                "renamed_at",
            ]
        ),
        json_values,
        min_size=1,
        max_size=3,
    ),
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)  # fmt: skip
def test_hostile_json_records_refs_claims_and_state_are_clear_errors(
    hostile: tuple[Store, Dataset, dict[str, bytes]],
    tmp_path: Path,
    which: str,
    shaped: bool,
    value: Any,
    fields: dict[str, Any],
    raw: bytes | None,
) -> None:
    store, ds, original = hostile
    _restore(store, original)
    key = _keys(ds)[which]
    if raw is not None and not shaped:
        data = raw
    elif shaped and key in original:
        base = json.loads(original[key])
        document = _plausible(base, fields) if isinstance(base, dict) else fields
        data = json.dumps(document, default=str).encode()
    elif shaped and which in ("rename", "rename-target"):
        marker = {"project": "p", "name": "w", "renamed_at": "2026-01-01T00:00:00+00:00"}
        marker |= {"labels": {"1.0.0": ds.id}, "aliases": {"latest": ds.id, "prod": ds.id}}
        data = json.dumps(_plausible(marker, fields), default=str).encode()
    elif shaped and which == "tombstone":
        base = json.loads(original[layout.version_key(ds.id)])
        data = json.dumps({"record": _plausible(base, fields), "deleted_at": value}).encode()
    else:
        data = json.dumps(value, default=str).encode()
    store.backend.put(key, data)
    fresh = Store(store.url, cache_dir=tmp_path / "cache-json")
    for ref in (ds.id, "p/v@latest", "p/v@prod", "p/v@1.0.0", "p/w@latest"):
        opened = _attempt(ref, lambda ref=ref: Dataset.get(ref, store=fresh))
        if opened is not None:
            _attempt("description", lambda o=opened: (o.description, o.tags, o.is_published))
            _attempt("metadata", lambda o=opened: [o.get_metadata(n) for n in o.list_metadata()])
            _attempt("lineage", lambda o=opened: o.lineage())
            _attempt("to_dict", lambda o=opened: o.to_dict())
    _attempt("list", lambda: Dataset.list(store=fresh))
    _attempt("list p/v", lambda: Dataset.list("p", "v", store=fresh))
    _attempt("search", lambda: Dataset.list(tags=["x"], store=fresh))


@FUZZ
@given(
    entry=st.fixed_dictionaries(
        {
            "kind": st.one_of(st.sampled_from(["json", "table", "bytes"]), json_values),
            "object": st.one_of(
                st.sampled_from(["../../../etc/passwd", "", "0" * 64]), json_values
            ),
            "size": st.one_of(int64, json_values),
        }
    ),
    name=st.one_of(st.sampled_from(["stats", "../x", "a/b", "", "\x00"]), st.text(max_size=6)),
)
def test_hostile_metadata_entries_are_clear_errors(
    hostile: tuple[Store, Dataset, dict[str, bytes]],
    tmp_path: Path,
    entry: dict[str, Any],
    name: str,
) -> None:
    store, ds, original = hostile
    _restore(store, original)
    key = layout.state_key(ds.id)
    state = json.loads(original[key])
    entries = state.get("metadata")
    assert isinstance(entries, dict) and "stats" in entries, state  # the fixture's entry
    state["metadata"] = {name: {**entries["stats"], **entry}}
    store.backend.put(key, json.dumps(state, default=str).encode())
    fresh = Store(store.url, cache_dir=tmp_path / "cache-meta")
    opened = Dataset.get(ds.id, store=fresh)
    for attempt in (name, "stats"):
        _attempt("get_metadata", lambda n=attempt: opened.get_metadata(n))
    _attempt("list_metadata", lambda: opened.list_metadata())


@FUZZ
@given(generated=rows, op=st.sampled_from(["add", "remove", "rename", ""]))
def test_a_hostile_draft_part_is_refused_and_nothing_becomes_visible(
    hostile: tuple[Store, Dataset, dict[str, bytes]],
    tmp_path: Path,
    generated: list[dict[str, Any]],
    op: str,
) -> None:
    from dsops.manifest.schema import PART_SCHEMA

    store, ds, original = hostile
    _restore(store, original)
    draft = Dataset.create(project="p", name="v", parents=[ds.id], store=store)
    template = {k: v for k, v in store.manifests.table(ds.id).to_pylist()[0].items()}
    template.pop("origin")
    part = []
    for row in generated:
        row = {**template, **row, "op": op}
        row["hash"] = template["hash"] if row["hash"] == "real" else row["hash"]
        row["object"] = template["object"] if row["object"] == "real" else row["object"]
        part.append(row)
    data = mio._to_parquet(pa.Table.from_pylist(part, schema=PART_SCHEMA), {"op": op})
    store.backend.put(layout.part_key(draft.id, "00000000000000000001-hostile"), data)
    version_id = _attempt("finalize", lambda: Dataset.get(draft.id, store=store).finalize())
    if version_id is None:
        assert not store.backend.exists(layout.version_key(draft.id))  # nothing half-visible
    else:  # the rows were acceptable: the version is whole and verifies
        assert Dataset.get(version_id, store=store).verify(deep=True)
