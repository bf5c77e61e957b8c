"""Where the bytes of case material live: files in the evidence folder, named by their SHA-256.

Why a folder and not the database: a branch uploads thousands of photos a day; kept as bytea they
made the database grow by the photos' size every day, its WAL twice that, and a pg_dump of 10 GB
of photos took minutes per GB (docs/EVIDENCE.md has the figures). Files that never change back up
incrementally (a copy of what is new), while the database stays small.

- The folder is `EVIDENCE_DIR` (default `.evidence/` in the project, beside the embedded
  database's `.pgdata/`), one sub-folder per database so two databases on one server (the demo,
  the tests) never share files. Several dashboard servers must share it (a network mount).
- A file is named by its checksum (`ab/abcdef…`): the same photo uploaded twice is stored once,
  a name can never point at other bytes, and reading checks the bytes against the name's checksum
  (recorded again in the row) so a damaged file is never handed out as evidence.
- Written to a temporary name, flushed to disk, then renamed: a crash leaves no half file under a
  real name. Written before the row is committed: a failed transaction leaves at most an unused
  file, never a row without its bytes.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FOLDER = PROJECT_ROOT / ".evidence"
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}$")


class EvidenceMissing(Exception):
    """The row names a file the evidence folder does not have."""


class EvidenceCorrupted(Exception):
    """The bytes read no longer have the checksum recorded at upload."""


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def evidence_root() -> Path:
    """The configured evidence folder (EVIDENCE_DIR), read each time so a test or a deployment can set it."""
    configured = os.environ.get("EVIDENCE_DIR", "").strip()
    return Path(configured) if configured else DEFAULT_FOLDER


def folder_for(session: Session) -> Path:
    """The evidence folder of the session's database."""
    database = session.get_bind().url.database or "default"
    return evidence_root() / re.sub(r"[^A-Za-z0-9_.-]", "_", database)


def key_for(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


def _path(session: Session, key: str) -> Path:
    if not _KEY.match(key):
        raise EvidenceMissing(key)
    return folder_for(session) / key


def store(session: Session, content: bytes, digest: str | None = None) -> str:
    """Keep `content` in the evidence folder and return its key (the same bytes: the same key)."""
    digest = digest or checksum(content)
    key = key_for(digest)
    target = _path(session, key)
    if target.is_file():
        try:
            if checksum(target.read_bytes()) == digest:
                return key  # already kept, intact
        except OSError:
            pass  # unreadable: write it again below
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself reaches the disk
    finally:
        os.close(directory)
    return key


def read_verified(session: Session, key: str, expected_sha256: str) -> bytes:
    """The bytes under `key`, only if they still have the checksum recorded at upload."""
    try:
        content = _path(session, key).read_bytes()
    except FileNotFoundError as exc:
        raise EvidenceMissing(key) from exc
    if checksum(content) != expected_sha256:
        raise EvidenceCorrupted(key)
    return content
