"""Throttled and flaky S3: every verb through a fault-injecting proxy in front of SeaweedFS.

`tests/throttle_proxy.py` answers a seeded 10% of requests — and every request during a
burst — with ``503 SlowDown``, a connection reset before the server sees the request, a
reset after the server did it (the answer lost), or an answer held back past the
client's read timeout. Each verb must either succeed through botocore's retries
(exponential backoff with jitter, a bounded number of attempts) or fail with a
``DsopsError`` that names the endpoint; afterwards, read through a clean connection, the
store must be whole: every listed version verifies deeply and fetches byte for byte, and
every label and alias resolves to a listed version or fails cleanly.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store
from dsops.errors import DsopsError, StoreError, VersionNotFound
from dsops.gc import collect_garbage
from tests.helpers import random_tree, snapshot
from tests.throttle_proxy import ThrottleProxy

READ_TIMEOUT = 1.0


@pytest.fixture
def proxied(s3_server: Any, tmp_path: Path) -> Iterator[tuple[ThrottleProxy, str]]:
    host, port = s3_server.endpoint.removeprefix("http://").split(":")
    with ThrottleProxy((host, int(port)), rate=0.0, seed=11, hold_seconds=2.5) as proxy:
        yield proxy, f"s3://{s3_server.new_bucket()}/throttled"


def _store(s3_server: Any, url: str, cache: Path, endpoint: str, **options: Any) -> Store:
    opts = {**s3_server.options, "endpoint_url": endpoint}
    return Store(url, cache_dir=cache, **opts, **options)


def _throttled(s3_server: Any, url: str, cache: Path, proxy: ThrottleProxy, **kw: Any) -> Store:
    kw.setdefault("max_attempts", 12)
    return _store(
        s3_server,
        url,
        cache,
        proxy.endpoint,
        read_timeout=READ_TIMEOUT,
        connect_timeout=READ_TIMEOUT,
        **kw,
    )


def _check_whole(store: Store, scratch: Path) -> int:
    """Every listed version verifies and fetches; every label and alias is clean."""
    listed = Dataset.list(store=store)
    ids = {row["id"] for row in listed}
    for n, row in enumerate(listed):
        ds = Dataset.get(row["id"], store=store)
        assert ds.verify(deep=True), row["ref"]
        copy = Path(ds.get_mutable_local_copy(scratch / f"{n}-{row['id']}"))
        assert sorted(snapshot(copy)) == sorted(ds.list_files()), row["ref"]
    for project, name in {(row["project"], row["name"]) for row in listed}:
        for label in [*store.catalog.labels(project, name), *store.catalog.aliases(project, name)]:
            try:
                assert Dataset.get(f"{project}/{name}@{label}", store=store).id in ids
            except VersionNotFound:
                pass  # a deleted version, a cleared alias
    return len(listed)


def _verbs(src: Path) -> list[tuple[str, Callable[[Store, dict[str, Any]], Any]]]:
    def create_add_finalize(s: Store, ctx: dict[str, Any]) -> None:
        ds = Dataset.create("team", "daily", store=s)
        ds.add_files(src / "day0")
        ctx["v1"] = ds.finalize(alias="prod")

    def child(s: Store, ctx: dict[str, Any]) -> None:
        ds = Dataset.create("team", "daily", parents=[ctx["v1"]], store=s)
        ds.add_files(src / "day1", dataset_path="day1")
        ds.remove_files("f000*")
        ctx["v2"] = ds.finalize()

    def sync(s: Store, ctx: dict[str, Any]) -> None:
        ds = Dataset.create("team", "daily", parents=[ctx["v2"]], store=s)
        ds.sync_folder(src / "day1", dataset_path="day1")
        ctx["v3"] = ds.finalize()

    def lifecycle(s: Store, ctx: dict[str, Any]) -> None:
        Dataset.get(ctx["v1"], store=s).set_alias("golden")
        v2 = Dataset.get(ctx["v2"], store=s)
        v2.set_metadata({"rows": 3, "note": "throttled"}, name="stats")
        v2.set_description("made through a throttled endpoint")
        v2.add_tags("throttled")
        v2.publish()

    def fetch(s: Store, ctx: dict[str, Any]) -> None:
        ds = Dataset.get(ctx["v3"], store=s)
        assert sorted(snapshot(ds.get_local_copy())) == sorted(ds.list_files())

    def squash(s: Store, ctx: dict[str, Any]) -> None:
        ctx["flat"] = Dataset.squash("flat", [ctx["v1"], ctx["v3"]], project="team", store=s).id

    def rename(s: Store, ctx: dict[str, Any]) -> None:
        Dataset.rename("team", "flat", "flat-renamed", store=s)

    def delete_prune(s: Store, ctx: dict[str, Any]) -> None:
        Dataset.prune("team", "daily", keep_last=1, keep_aliases=False, store=s)

    def gc(s: Store, ctx: dict[str, Any]) -> None:
        collect_garbage(s, grace_seconds=0)

    return [
        ("create+add+finalize", create_add_finalize),
        ("child add+remove+finalize", child),
        ("sync+finalize", sync),
        ("alias, metadata, description, tags, publish", lifecycle),
        ("fetch", fetch),
        ("squash", squash),
        ("rename", rename),
        ("prune", delete_prune),
        ("gc", gc),
    ]


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    random_tree(src / "day0", 40, seed=1, max_size=20_000)
    random_tree(src / "day1", 30, seed=2, max_size=20_000)
    (src / "day1" / "big.bin").write_bytes(random.Random(3).randbytes(3 << 20))
    return src


def _run_all(
    s3_server: Any,
    proxy: ThrottleProxy,
    url: str,
    tmp_path: Path,
    before: Callable[[str], None],
) -> dict[str, tuple[str, float]]:
    src = _source(tmp_path)
    ctx: dict[str, Any] = {}
    outcomes: dict[str, tuple[str, float]] = {}
    for n, (name, verb) in enumerate(_verbs(src)):
        store = _throttled(s3_server, url, tmp_path / f"cache-{n}", proxy)
        before(name)
        started = time.monotonic()
        try:
            verb(store, ctx)
            outcome = "ok"
        except DsopsError as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        outcomes[name] = (outcome, time.monotonic() - started)
        clean = _store(s3_server, url, tmp_path / f"clean-{n}", s3_server.endpoint)
        _check_whole(clean, tmp_path / f"check-{n}")
    return outcomes


def _report(title: str, proxy: ThrottleProxy, outcomes: dict[str, tuple[str, float]]) -> None:
    print(f"\n{title}: proxy {dict(proxy.stats)}")
    for name, (outcome, seconds) in outcomes.items():
        print(f"  {name}: {outcome[:100]} in {seconds:.1f} s")


def test_every_verb_succeeds_through_ten_percent_faults(
    s3_server: Any, proxied: tuple[ThrottleProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied
    proxy.rate = 0.10
    outcomes = _run_all(s3_server, proxy, url, tmp_path, before=lambda name: None)
    _report("10% faults", proxy, outcomes)
    assert all(outcome == "ok" for outcome, _ in outcomes.values()), outcomes
    faults = Counter({k: proxy.stats[k] for k in ("slowdown", "reset", "timeout", "lost")})
    assert all(faults.values()), f"some fault kind was never injected: {faults}"


def test_every_verb_rides_out_a_burst_of_total_failure(
    s3_server: Any, proxied: tuple[ThrottleProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied
    proxy.rate = 0.10
    outcomes = _run_all(s3_server, proxy, url, tmp_path, before=lambda name: proxy.burst(2.0))
    _report("2 s bursts of 100% faults, then 10%", proxy, outcomes)
    assert proxy.stats["burst"] >= len(outcomes), "the bursts failed nothing"
    assert all(outcome == "ok" for outcome, _ in outcomes.values()), outcomes


def test_a_verb_past_its_retry_budget_fails_cleanly_and_the_rerun_completes(
    s3_server: Any, proxied: tuple[ThrottleProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied
    src = _source(tmp_path)
    clean = _store(s3_server, url, tmp_path / "clean-cache", s3_server.endpoint)
    draft = Dataset.create("team", "daily", store=clean)
    proxy.faults = ("slowdown",)
    store = _throttled(s3_server, url, tmp_path / "cache", proxy, max_attempts=3)
    ds = Dataset.get(draft.id, store=store)
    proxy.burst(3600)  # from here on throttled for good: the add's uploads fail
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"SlowDown.*throttling") as failure:
        ds.add_files(src / "day0")
    elapsed = time.monotonic() - started
    print(f"\nthrottled for good: {failure.value} after {elapsed:.1f} s")
    assert proxy.endpoint in str(failure.value)
    assert _check_whole(clean, tmp_path / "check") == 0  # nothing half-visible
    proxy.burst(0)
    retry = Dataset.get(draft.id, store=_throttled(s3_server, url, tmp_path / "c2", proxy))
    retry.add_files(src / "day0")
    assert retry.finalize() == draft.id
    assert _check_whole(clean, tmp_path / "check-2") == 1
