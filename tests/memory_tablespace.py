"""A tablespace in memory (/dev/shm) for the test databases, where the test server allows one.

Why: each test clones its own database, some six hundred files, and drops it afterwards. On an ext4
file system without a journal (this machine's disk) the kernel will not reuse an inode freed in
the last minute or so, and walks past every such inode before it finds one it will: once a run
has dropped a few dozen databases, each CREATE DATABASE spent 0.5-0.7 s in the kernel where it
first took 0.08 s, a third of the suite's time (perf: ext4 `recently_deleted`, twenty-first
session). In tmpfs a clone takes 0.03 s whatever came before it.

Used only when the server runs on this machine (its data directory is here, so it can reach the
folder), the folder can be given to the server's own user, and PostgreSQL accepts it; otherwise
the test databases stay in the default tablespace, as before. Everything in it is a test's
throwaway database: nothing of a user's is ever placed there.
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

MEMORY = Path("/dev/shm")
LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}
# A worker holds two templates and one test's database (15-20 MB each, a test that imports or
# generates many cases some more): a small /dev/shm (a container's default 64 MB) would fill mid-run.
MIN_FREE_BYTES = 1 << 30


def _free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def admin_execute(admin_url: str, sql: str) -> None:
    """One statement on the server, outside a transaction (CREATE / DROP DATABASE or TABLESPACE)."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class MemoryTablespace:
    name: str
    folder: Path


def open_memory_tablespace(admin_url: str) -> MemoryTablespace | None:
    """A new tablespace in a folder of /dev/shm owned by the server's user, or None where that
    cannot be (a server elsewhere, no tmpfs or too small a one, no right to give the folder away)."""
    url = make_url(admin_url)
    if (url.host not in LOCAL_HOSTS or not MEMORY.is_dir() or not os.access(MEMORY, os.W_OK)
            or _free_bytes(MEMORY) < MIN_FREE_BYTES):
        return None
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    folder: Path | None = None
    try:
        with engine.connect() as conn:
            data_directory = Path(conn.scalar(text("SELECT current_setting('data_directory')")))
            if not data_directory.is_dir():
                return None
            owner = data_directory.stat()
            tag = uuid.uuid4().hex[:12]
            folder = MEMORY / f"claims-tests-{tag}"
            folder.mkdir(mode=0o700)
            if (owner.st_uid, owner.st_gid) != (os.geteuid(), os.getegid()):
                os.chown(folder, owner.st_uid, owner.st_gid)
            name = f"claims_tests_{tag}"
            conn.execute(text(f"CREATE TABLESPACE \"{name}\" LOCATION '{folder}'"))
            return MemoryTablespace(name, folder)
    except Exception:  # noqa: BLE001 - any refusal (permissions, a server in a container): the default tablespace
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return None
    finally:
        engine.dispose()


def close_memory_tablespace(admin_url: str, space: MemoryTablespace) -> None:
    """Drop the tablespace and its folder. A database a test left in it keeps both (PostgreSQL
    refuses to drop a tablespace in use), rather than pulling the floor from under it."""
    try:
        admin_execute(admin_url, f'DROP TABLESPACE IF EXISTS "{space.name}"')
    except Exception:  # noqa: BLE001 - left for the administrator, with the database still in it
        return
    shutil.rmtree(space.folder, ignore_errors=True)
