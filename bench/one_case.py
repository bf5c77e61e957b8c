"""One case copied, with everything that hangs off it, from one database into another that holds
the same organisation (the bench's empty database).

Why: the AppTest bench compares each page on the big database with the same page on an empty one,
to show what the size of the database costs. The case detail draws one case; on an empty database
it has none to draw and shows its search box instead, so that comparison weighed a whole case
against a search box. With this copy the empty database holds exactly the case the big one is
measured on, and the two runs draw the same page.

Which rows belong to the case is read from the schema's foreign keys, not listed by hand: the case
row, every row of a table with a `case_id` pointing at it, and the rows of their child tables (an
opinion's points, a point's answers and verdicts, a complaint's steps...). Rule sets and a
catastrophe event the case names are copied when the target lacks them. Rows are inserted as they
are (ids kept), so the target's triggers keep its counts and figures as for any new case.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict

from sqlalchemy import MetaData, Table, create_engine, insert, select, text
from sqlalchemy.engine import Connection

ROOT_TABLE = "claim_case"
SHARED = ("person", "org_unit")  # the organisation: the same in both databases, never copied


def _whole_tables(conn: Connection) -> set[str]:
    """Tables and partitioned tables, without their partitions (a partition's rows are its parent's)."""
    return set(conn.scalars(text(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind IN ('r', 'p') AND NOT relispartition")))


def _order(meta: MetaData, names: set[str]) -> list[Table]:
    """The tables that hang off the case, parents before children (a table with two parents, such
    as a violation of a case's deadline, after both)."""
    children: dict[str, set[str]] = defaultdict(set)
    for table in meta.tables.values():
        if table.name not in names:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent in names and parent != table.name:
                children[parent].add(table.name)
    reached, stack = {ROOT_TABLE}, [ROOT_TABLE]
    while stack:
        for child in children[stack.pop()]:
            if child not in reached:
                reached.add(child)
                stack.append(child)
    return [t for t in meta.sorted_tables if t.name in reached]


def copy_case(source_url: str, target_url: str, case_id: int) -> dict[str, int]:
    """Copies case `case_id` and its rows; returns the rows copied per table. All or nothing: one
    transaction on the target."""
    source, target = create_engine(source_url), create_engine(target_url)
    try:
        with source.connect() as src, target.begin() as dst:
            names = _whole_tables(src)
            meta = MetaData()
            meta.reflect(bind=src, only=sorted(names))
            tables = _order(meta, names)
            reached = {t.name for t in tables}
            kept: dict[str, set] = {}  # table -> primary keys copied (for its children's selection)
            shared: dict[str, set] = defaultdict(set)  # person / org_unit ids the copied rows name
            copied: dict[str, int] = {}
            for table in tables:
                rows = _insertable(src, table, _rows_of(table, case_id, kept))
                for fk in table.foreign_keys:
                    parent = fk.column.table
                    wanted = {r[fk.parent.name] for r in rows} - {None}
                    if parent.name in SHARED:
                        shared[parent.name] |= wanted
                    elif parent.name not in reached and wanted:
                        _copy_missing(src, dst, parent, fk.column.name, wanted)
                if rows:
                    dst.execute(insert(table), rows)
                pk = list(table.primary_key.columns)
                if len(pk) == 1:
                    kept[table.name] = {r[pk[0].name] for r in rows}
                copied[table.name] = len(rows)
            for name, ids in shared.items():
                _same_in_both(src, dst, meta.tables[name], ids)
            return copied
    finally:
        source.dispose()
        target.dispose()


def _rows_of(table: Table, case_id: int, kept: dict[str, set]):
    """The case's rows of `table`: by its case_id, else by its link to a parent row already copied."""
    if table.name == ROOT_TABLE:
        return select(table).where(table.c.id == case_id)
    if "case_id" in table.c and any(fk.column.table.name == ROOT_TABLE for fk in table.c.case_id.foreign_keys):
        return select(table).where(table.c.case_id == case_id)
    links = [fk.parent.in_(kept[fk.column.table.name]) for fk in table.foreign_keys
             if fk.column.table.name in kept and fk.column.table.name != table.name]
    if not links:  # never a select without a condition: that would copy the whole table
        raise ValueError(f"{table.name}: no copied parent to select its rows by")
    return select(table).where(links[0])


def _insertable(src: Connection, table: Table, query) -> list[dict]:
    """The rows `query` reads from `table`, as the target takes them: without the columns the
    database generates itself (an insert naming one is refused)."""
    written = [c.name for c in table.columns if c.computed is None]
    return [{c: r[c] for c in written} for r in src.execute(query).mappings()]


def _copy_missing(src: Connection, dst: Connection, parent: Table, column: str, wanted: set) -> None:
    """Rows the case names outside its own (a rule set, a catastrophe event) the target lacks."""
    have = set(dst.scalars(select(parent.c[column]).where(parent.c[column].in_(wanted))))
    rows = _insertable(src, parent, select(parent).where(parent.c[column].in_(wanted - have)))
    if rows:
        dst.execute(insert(parent), rows)


def _same_in_both(src: Connection, dst: Connection, table: Table, ids: set) -> None:
    """The people and units the case names are the same ones in the target (the same username or
    unit code under the same id): a target built otherwise would put the case in other hands."""
    key = "username" if "username" in table.c else "code"
    query = select(table.c.id, table.c[key]).where(table.c.id.in_(ids))
    theirs, ours = dict(src.execute(query).all()), dict(dst.execute(query).all())
    if theirs != ours:
        differ = sorted(i for i in ids if theirs.get(i) != ours.get(i))[:5]
        raise ValueError(f"{table.name} differs between the databases (ids {differ}): "
                         "build the target with the same organisation")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_url")
    parser.add_argument("target_url")
    parser.add_argument("case_id", type=int)
    args = parser.parse_args(argv)
    for table, n in copy_case(args.source_url, args.target_url, args.case_id).items():
        print(f"{table:<24} {n:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
