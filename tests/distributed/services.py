"""Debian services for the distributed tier: PostgreSQL, Redis, and Airflow's processes.

Each service runs on loopback on a free port, under its own temporary folder, in its
own process group, and is stopped by its own PID (SIGTERM to the group, SIGKILL after a
grace period). PostgreSQL refuses to run as root: as root it runs as the ``postgres``
system user (created when missing), with a data folder that user owns.

The Debian packages (``postgresql``, ``redis-server``) are installed with ``apt-get``
when missing (as root, or through passwordless sudo); where that is impossible the
tier is skipped, with the reason (and fails under CI, as the S3 tier does).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE = 10.0
PACKAGES = ("postgresql", "redis-server")


class Unavailable(RuntimeError):
    """The machine cannot run the tier's Debian services (the reason is the message)."""


# --- processes ------------------------------------------------------------------------


@dataclass
class Service:
    """One started process (its own process group) and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds.

        Descendants in process groups of their own (Airflow's task processes) are
        SIGKILLed by PID if they outlive the group.
        """
        children = descendants(self.pid)
        if self.process.poll() is None:
            _kill_group(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _kill_group(self.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)
        _kill_group(self.pid, signal.SIGKILL)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill_tree(self) -> list[int]:
        """SIGKILL the process and every descendant (a machine dying): the PIDs killed.

        Airflow's task supervisor puts each task process in its own process group, so
        killing the worker's group alone would leave the running tasks behind.
        """
        pids = [self.pid, *descendants(self.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=STOP_GRACE)
        return pids


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def start(
    name: str,
    argv: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> Service:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            start_new_session=True,
        )
    return Service(name, process, log)


def wait_for(what: str, ready: object, service: Service, timeout: float) -> None:
    """Poll ``ready()`` until true; raise with the service's log when it dies or times out."""
    assert callable(ready)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise RuntimeError(
                f"{service.name} exited ({service.process.returncode}) before {what}:\n"
                f"{service.tail()}"
            )
        if ready():
            return
        time.sleep(0.3)
    raise TimeoutError(f"{service.name}: no {what} after {timeout:.0f}s:\n{service.tail()}")


# --- Debian packages ------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def _missing() -> list[str]:
    missing = []
    if _postgres_bin() is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


def ensure_packages() -> None:
    """Install PostgreSQL and Redis from Debian packages when missing (apt-get)."""
    missing = _missing()
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise Unavailable(f"{', '.join(missing)} missing and no apt-get on this machine")
    sudo: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None or (
            subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0
        ):
            raise Unavailable(
                f"{', '.join(missing)} missing; not root and no passwordless sudo to "
                f"apt-get install {' '.join(PACKAGES)}"
            )
        sudo = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        [*sudo, "apt-get", "update", "-qq"],
        [*sudo, "apt-get", "install", "-y", "-qq", *PACKAGES],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise Unavailable(f"{' '.join(argv)} failed:\n{done.stdout[-1500:]}{done.stderr}")
    if _missing():
        raise Unavailable(f"still missing after apt-get install: {_missing()}")


# --- PostgreSQL -----------------------------------------------------------------------


@dataclass
class Postgres:
    port: int
    service: Service
    user: str = "airflow"
    database: str = "airflow"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"


def _service_user() -> str | None:
    """The user PostgreSQL runs as: ``postgres`` when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--home-dir", "/var/lib/postgresql", "postgres"], check=True
        )
    return "postgres"


@contextmanager
def postgres(port: int) -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster on 127.0.0.1:``port`` with database ``airflow``.

    The data folder is made with ``tempfile`` (not pytest's root-only tmp folders) so
    that the ``postgres`` user can own it. Trust authentication, on loopback only.
    """
    bindir = _postgres_bin()
    if bindir is None:
        raise Unavailable("no PostgreSQL binaries under /usr/lib/postgresql")
    user = _service_user()
    root = Path(tempfile.mkdtemp(prefix="dsops-pg-"))
    try:
        data = root / "data"
        data.mkdir()
        if user:
            uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
            for path in (root, data):
                os.chown(path, uid, gid)
        log = root / "postgres.log"
        log.touch()
        if user:
            os.chown(log, uid, gid)
        initdb = start(
            "initdb",
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "airflow",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            log,
            user=user,
            cwd=root,
        )
        if initdb.process.wait(timeout=120) != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.tail()}")
        service = start(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            log,
            user=user,
            cwd=root,
        )
        try:
            wait_for("connection", lambda: _create_db(port), service, 60)
            yield Postgres(port, service)
        finally:
            # SIGINT is PostgreSQL's "fast" shutdown; then the group, by PID.
            if service.alive():
                _kill_group(service.pid, signal.SIGINT)
                try:
                    service.process.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    pass
            service.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _create_db(port: int) -> bool:
    import psycopg2

    try:
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres")
    except psycopg2.OperationalError:
        return False
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = 'airflow'")
            if cur.fetchone() is None:
                cur.execute("CREATE DATABASE airflow")
    finally:
        conn.close()
    return True


# --- Redis ----------------------------------------------------------------------------


@contextmanager
def redis(port: int, root: Path) -> Iterator[Service]:
    """``redis-server`` on 127.0.0.1:``port``, no persistence, its files under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    service = start(
        "redis",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
        ],
        root / "redis.log",
        cwd=root,
    )
    try:
        wait_for("PING answer", lambda: _redis_ping(port), service, 30)
        yield service
    finally:
        service.stop()


def _redis_ping(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
