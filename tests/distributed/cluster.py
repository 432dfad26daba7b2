"""Airflow 3 on CeleryExecutor, for real: every component a process of its own.

``celery_cluster(s3, root)`` starts, on loopback with free ports, each under its own
temporary folder: PostgreSQL (Airflow's metadata DB and Celery's result backend), Redis
(the broker), SeaweedFS (the dsops store, through a pass-through proxy that the tests can
slow down), then ``airflow db migrate`` and the scheduler, the DAG processor, the API
server and Celery workers (``w1@…``, ``w2@…``, …). Every process is stopped by its own
PID when the context exits or a start fails. Used by the distributed test tier
(``conftest.py``) and by ``bench/celery_bench.py``.

Nothing here imports Airflow: the Airflow processes are subprocesses with their own
environment (the Airflow tier's conftest sets ``AIRFLOW_HOME`` for this process).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.distributed import services
from tests.distributed.services import Service, Unavailable
from tests.s3_server import S3Server, free_ports
from tests.throttle_proxy import ThrottleProxy

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "example_dags"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
USER, PASSWORD = "dsops", "dsops-test-password"
#: A dead worker's running tasks fail after this many seconds without a heartbeat.
HEARTBEAT_TIMEOUT = 12
START_TIMEOUT = 180.0
CELERY_EXTRA = ("apache-airflow-providers-celery", "psycopg2-binary", "asyncpg", "redis")
HOSTNAME_CALLABLE = "tests.distributed.worker_hostname.hostname"


@dataclass
class CeleryCluster:
    """A running Airflow-on-Celery deployment and the store its DAGs write to."""

    api_url: str
    token: str
    store_url: str
    s3: S3Server
    proxy: ThrottleProxy
    workers: dict[str, Service]
    services: dict[str, Service]
    home: Path
    env: dict[str, str] = field(repr=False)
    started_in: float = 0.0

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def store_options(self) -> dict[str, str]:
        return self.s3.options

    def logs(self) -> str:
        """The tail of every process's log, for a failing assertion."""
        return "\n".join(
            f"--- {name} ({'alive' if s.alive() else 'exited'}) {s.log} ---\n{s.tail(1500)}"
            for name, s in {**self.services, **self.workers}.items()
        )


def _installed(distribution: str) -> bool:
    """Whether a distribution is installed (without importing Airflow in this process)."""
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _airflow_env(
    home: Path, pg: services.Postgres, redis_port: int, api_port: int, conn: dict[str, Any]
) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "DSOPS_", "PYTEST_")) and k != "PYTHONPATH"
    }
    db = f"postgresql+psycopg2://{pg.user}@127.0.0.1:{pg.port}/{pg.database}"
    secret = secrets.token_urlsafe(32)
    return {
        **base,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(EXAMPLE_DAGS)]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg.url,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        # With late acks, a worker holds only the messages of the tasks it runs.
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secret,
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # A killed worker: its tasks stop heartbeating, fail, and are retried elsewhere.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # The dsops store, for every process (each worker could hold its own keys).
        "AIRFLOW_CONN_DSOPS_DEFAULT": json.dumps(conn),
    }


def _api_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def _token(url: str) -> str:
    answer = httpx.post(
        f"{url}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=10
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _dag_listed(url: str, token: str, dag_id: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            answer = httpx.get(
                f"{url}/api/v2/dags/{dag_id}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    return ready


def _worker_ready(worker: Service) -> Callable[[], bool]:
    return lambda: f"{worker.extra['hostname']} ready." in worker.tail(20000)


@contextmanager
def celery_cluster(
    s3_server: S3Server, root: Path, workers: int = 2, concurrency: int = 2
) -> Iterator[CeleryCluster]:
    """A running cluster whose DAGs write to a fresh bucket on ``s3_server``.

    Raises :class:`Unavailable` when the machine cannot run it (packages missing and not
    installable), RuntimeError / TimeoutError when a component fails to start (with its
    log).
    """
    started = time.monotonic()
    missing = [name for name in CELERY_EXTRA if not _installed(name)]
    if missing:
        raise Unavailable(f"{missing} not installed: pip install 'dsops[airflow,celery]'")
    services.ensure_packages()
    home = root / "airflow"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    pg_port, redis_port, api_port = free_ports(3)
    bucket = s3_server.new_bucket()
    store_url = f"s3://{bucket}/datasets"
    with ExitStack() as stack:
        pg = stack.enter_context(services.postgres(pg_port))
        stack.enter_context(services.redis(redis_port, root / "redis"))
        upstream = s3_server.endpoint.rsplit("//", 1)[1].split(":")
        proxy = stack.enter_context(ThrottleProxy((upstream[0], int(upstream[1])), rate=0.0))
        conn = {
            "conn_type": "dsops",
            "host": store_url,
            "login": s3_server.access_key,
            "password": s3_server.secret_key,
            "extra": {"endpoint_url": proxy.endpoint, "region": s3_server.region},
        }
        env = _airflow_env(home, pg, redis_port, api_port, conn)
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, cwd=root
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout}{migrate.stderr}")
        procs: dict[str, Service] = {}

        def launch(name: str, *argv: str, extra_env: dict[str, str] | None = None) -> Service:
            service = services.start(
                name, [AIRFLOW, *argv], root / f"{name}.log", {**env, **(extra_env or {})}, cwd=root
            )
            stack.callback(service.stop)
            return service

        procs["api-server"] = launch("api-server", "api-server", "--port", str(api_port))
        procs["scheduler"] = launch("scheduler", "scheduler")
        procs["dag-processor"] = launch("dag-processor", "dag-processor")
        running: dict[str, Service] = {}
        host = socket.gethostname()
        for name in (f"w{n + 1}" for n in range(workers)):
            worker = launch(
                name,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--concurrency",
                str(concurrency),
                "--skip-serve-logs",
                extra_env={
                    "DSOPS_CACHE_DIR": str(root / f"cache-{name}"),
                    "DSOPS_TEST_WORKER_HOSTNAME": f"{name}@{host}",
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE,
                },
            )
            worker.extra["hostname"] = f"{name}@{host}"
            running[name] = worker
        api = f"http://127.0.0.1:{api_port}"
        services.wait_for("health answer", _api_ready(api), procs["api-server"], START_TIMEOUT)
        token = _token(api)
        services.wait_for(
            "parsed dsops_parallel_ingestion",
            _dag_listed(api, token, "dsops_parallel_ingestion"),
            procs["dag-processor"],
            START_TIMEOUT,
        )
        for worker in running.values():
            services.wait_for("ready worker", _worker_ready(worker), worker, START_TIMEOUT)
        yield CeleryCluster(
            api_url=api,
            token=token,
            store_url=store_url,
            s3=s3_server,
            proxy=proxy,
            workers=running,
            services=procs,
            home=home,
            env=env,
            started_in=time.monotonic() - started,
        )
