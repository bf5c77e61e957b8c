"""Read statements built once per shape and reused.

Why: building a list page's SELECT (joins, aliases, CASE, a subquery) and computing its cache key
cost SQLAlchemy 1-3 ms of Python on every call, as much as PostgreSQL took to run it
(bench/RESULTS.md, ours / SQL). A built statement never changes and SQLAlchemy memoises its cache
key, so the same object can be executed again, by any thread. Builders decorated here are keyed by
their arguments: the person (a frozen `Actor`, so one person's scope is never served to another),
the filters (frozen dataclasses) and the page. Values that change on every call (the time now, a
list of ids) are bound parameters given at execution instead.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY, BindParameter, ColumnElement, DateTime, Executable, Integer, Select, Subquery, TextClause,
    bindparam, func, select, text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine.result import IteratorResult, Result, SimpleResultMetaData
from sqlalchemy.sql.selectable import GenerativeSelect
from sqlalchemy.types import NullType
from sqlalchemy.orm import Session

F = TypeVar("F", bound=Callable)
R = TypeVar("R")

# Per builder: the shapes in use by the people active on one server (a miss costs only the 1-3 ms
# of building). A built statement takes 10-100 KB (the overview's headline is the largest), so
# the whole process keeps at most a few tens of MB of them.
MAX_SHAPES = 128


# The time "now", bound at execution: a built statement serves every run of a page, whatever the time.
NOW = bindparam("now", type_=DateTime(timezone=True))


_BUILT: list[Any] = []  # every builder's cache (forget_built_statements)


def built_once(builder: F) -> F:
    """Keep the statements `builder` returns, by its (hashable) arguments."""
    kept = lru_cache(maxsize=MAX_SHAPES)(builder)
    _BUILT.append(kept)
    return kept  # type: ignore[return-value]


def forget_built_statements() -> None:
    """Drop every statement kept so far. A person's statements are kept by the person (`Actor`), whose
    scope never changes while the process runs; a test that changes what an Actor means (switching
    the application's own checks off, say) builds them anew, and leaves none behind."""
    for kept in (*_BUILT, generic_form, with_total):
        kept.cache_clear()


def read(session: Session, statement: Executable, params: Mapping[str, Any] | None = None, *,
         generic: bool = False, prepared: bool = False, custom: bool = False) -> Result:
    """Run a read statement in the session's transaction, on its connection.

    Why not `session.execute`: its ORM result machinery costs ~0.3 ms per 50-row list for
    columns that are plain values anyway (bench/RESULTS.md). Pending changes are flushed first,
    as `session.execute` would, so a list read after a write in the same session sees it.

    `generic`: run a built-once statement as a prepared statement's generic plan (`GenericForm`):
    for a read of a table partitioned by month, whose planning over every month costs more than
    running it. `prepared`: as a prepared statement, PostgreSQL choosing the plan as for any
    (plan_cache_mode auto): for a page of several small reads, where what SQLAlchemy spends around
    each statement (~0.2 ms) is what the page adds to its SQL. `custom`: prepared, but planned for
    the values given on every run (plan_cache_mode force_custom_plan): for a read whose best plan
    depends on them (how far down the list a page reaches), which a generic plan would not know,
    yet where SQLAlchemy's work around the statement is worth saving (the dispatch board)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection()
    if (generic or prepared or custom) and prepared_statements_allowed():
        mode = "force_generic_plan" if generic else "force_custom_plan" if custom else "auto"
        return _read_generic(connection, statement, dict(params or {}), plan_mode=mode)
    return connection.execute(statement, dict(params or {}))


def count_then_page(session: Session, count: Callable[[], Executable], page: Callable[[], Executable], *,
                    limit: int, total: int | None, params: Mapping[str, Any] | None = None,
                    generic: bool = False, prepared: bool = False,
                    reads_all: bool = False) -> tuple[int, list[tuple]]:
    """A list's count (unless the caller already has it, `total`) and one page of its rows, as
    tuples; `params` binds both statements' parameters (a built-once statement's person, say);
    `generic` and `prepared` as for `read`.

    `limit=0` only counts.

    Without `total`, the count rides in the page's statement as one more column, an uncorrelated
    scalar subquery (`with_total`): PostgreSQL runs it once, by the count's own plan, and the list
    costs one round trip instead of two (what SQLAlchemy spends around each statement, ~0.2 ms,
    was most of what a list page adds to its SQL: bench/RESULTS.md). An empty page says nothing
    of the total: it is 0 when the page starts at the top, and counted when it starts past the end
    (a list that shrank under a remembered page).

    `reads_all`: the page's statement reads every row of the list anyway (it sorts them by a
    computed value before its LIMIT), so the count is a window over those rows instead of a second
    reading of the same rows through their row policies (the branch inbox: 818 waiting points at
    10,000,000 cases, read twice). A list whose page stops after its first rows (an index in its
    order) keeps the subquery: a window would make it read them all."""
    if limit == 0:
        return (total if total is not None else _count(session, count, params, generic, prepared)), []
    statement = page()
    if total is not None:
        return total, [tuple(row) for row in read(session, statement, params, generic=generic, prepared=prepared)]
    counting = count()
    if not isinstance(statement, Select) or not isinstance(counting, Select):  # a UNION, a text: counted apart
        rows = read(session, statement, params, generic=generic, prepared=prepared).all()
        return _count(session, lambda: counting, params, generic, prepared), [tuple(row) for row in rows]
    counted = with_window_total(statement) if reads_all else with_total(statement, counting)
    rows = read(session, counted, params, generic=generic, prepared=prepared).all()
    if rows:
        return rows[0][-1], [tuple(row)[:-1] for row in rows]
    if _offset_of(statement, params) == 0:
        return 0, []
    return _count(session, count, params, generic, prepared), []


@lru_cache(maxsize=4 * MAX_SHAPES)
def with_total(page: Select, count: Select) -> Select:
    """`page` with `count`'s value as its last column (keyed by the two built-once statements)."""
    return page.add_columns(count.scalar_subquery().label("list_total"))


@lru_cache(maxsize=4 * MAX_SHAPES)
def with_window_total(page: Select) -> Select:
    """`page` with the number of rows it matched, before its LIMIT, as its last column."""
    return page.add_columns(func.count().over().label("list_total"))


def _count(session: Session, count: Callable[[], Executable], params: Mapping[str, Any] | None,
           generic: bool, prepared: bool) -> int:
    return read(session, count(), params, generic=generic, prepared=prepared).scalar() or 0


def _offset_of(statement: Executable, params: Mapping[str, Any] | None) -> int | None:
    """The OFFSET a page statement carries: 0 without one, None when it is not a number written
    into the statement (bound at execution, or an expression): then an empty page is counted."""
    if not isinstance(statement, GenerativeSelect):
        return None
    clause = statement._offset_clause
    if clause is None:
        return 0
    if isinstance(clause, BindParameter) and isinstance(clause.value, int) and clause.key not in (params or {}):
        return clause.value
    return None


@dataclass(frozen=True)
class GenericForm:
    """A built-once SQLAlchemy statement as a PostgreSQL prepared statement run by its generic plan.

    Why: a read of a table partitioned by month (the outbox, the material, the history) that cannot
    prune (by person, by case, by state) is planned over every month's partition each time: ~2 ms
    a statement at 37 months against ~0.3 ms to run it (bench/RESULTS.md, 1,000,000 cases). Its
    generic plan is the same plan, made once per connection.

    The values the statement carries (states, kinds, LIMIT and OFFSET) are written into it as
    literals, so the generic plan still knows them (a partial index on `state = 'queued'` is only
    usable when the plan knows the state); only the parameters given at execution (`params`: a
    person, a case, the time) become `$n`, typed from their SQLAlchemy types. Values are passed to
    the driver as they are (no SQLAlchemy bind or result processing): for plain columns only."""

    name: str
    prepare: str
    params: tuple[str, ...]

    def execute_sql(self) -> str:
        placeholders = ", ".join(f"%({p})s" for p in self.params)
        return f"EXECUTE {self.name}" + (f" ({placeholders})" if self.params else "")


_BIND = re.compile(r"%\(([^)]+)\)s")
_EXPANDING = re.compile(r"__\[POSTCOMPILE_([^\]]+)\]")


@lru_cache(maxsize=4 * MAX_SHAPES)
def generic_form(statement: Executable, dialect: Any, given: frozenset[str]) -> GenericForm:
    """`statement` compiled once: the binds named in `given` as `$n`, every other bind's value
    written as a literal. Keyed by the (built-once) statement object itself."""
    compiled = statement.compile(dialect=dialect)
    order: list[str] = []
    types: dict[str, str] = {}

    def placeholder(match: re.Match) -> str:
        name = match.group(1)
        bind = compiled.binds[name]
        if name in given:
            if name not in order:
                order.append(name)
                types[name] = ("unknown" if isinstance(bind.type, NullType)
                               else dialect.type_compiler_instance.process(bind.type))
            return f"${order.index(name) + 1}"
        return compiled.render_literal_value(bind.effective_value, bind.type)

    def expanded(match: re.Match) -> str:  # IN (...) of values the statement carries
        name = match.group(1)
        if name in given:
            raise ValueError(f"{name}: a list given at execution needs = ANY(array) in a generic statement")
        bind = compiled.binds[name]
        item_type = getattr(bind.type, "item_type", bind.type)
        return ", ".join(compiled.render_literal_value(v, item_type) for v in bind.effective_value)

    body = _BIND.sub(placeholder, _EXPANDING.sub(expanded, compiled.string)).replace("%%", "%")
    digest = hashlib.sha1(body.encode()).hexdigest()[:16]
    name = f"g_{digest}"
    arguments = f" ({', '.join(types[p] for p in order)})" if order else ""
    return GenericForm(name, f"PREPARE {name}{arguments} AS {body}", tuple(order))


def _read_generic(connection: Any, statement: Executable, params: dict[str, Any], *, plan_mode: str) -> Result:
    form = generic_form(statement, connection.dialect, frozenset(params))
    # The mode is set either way: an earlier read of the same transaction may have left another.
    return _execute_prepared(connection, form.name, form.prepare, form.execute_sql(),
                             {p: params[p] for p in form.params}, plan_mode=plan_mode)


def _execute_prepared(connection: Any, name: str, prepare_sql: str, execute_sql: str, params: Mapping[str, Any], *,
                      plan_mode: str | None) -> Result:
    """Run the prepared statement `name`, preparing it first on a connection that has not yet. A
    prepared statement belongs to the database connection (it survives rollbacks, and a pooled
    connection keeps it for the next session); the names prepared are kept with the connection
    (`Connection.info`), so a new connection prepares again. `plan_mode`: plan_cache_mode for the
    rest of the transaction, sent with the EXECUTE in one round trip (the result is the EXECUTE's)."""
    prepared = connection.info.setdefault(_PREPARED_KEY, set())
    if name not in prepared:
        if len(prepared) >= MAX_PREPARED:
            # A pooled connection lives as long as the server: statements kept per person (a
            # surveyor's own list, a person's open clocks) would pile up in its memory without end.
            connection.exec_driver_sql("DEALLOCATE ALL")
            prepared.clear()
        connection.exec_driver_sql(prepare_sql.replace("%", "%%"))  # the driver reads % as a placeholder
        prepared.add(name)
    if plan_mode is not None:
        execute_sql = f"SET LOCAL plan_cache_mode = {plan_mode}; {execute_sql}"
    return _on_cursor(connection, execute_sql, dict(params))


def _on_cursor(connection: Any, sql: str, params: dict[str, Any]) -> Result:
    """`sql` (an EXECUTE of a statement named by its content) run on the driver's cursor, its rows as a Result.

    Why not `exec_driver_sql`: for a statement whose text is fixed and whose values come back from
    the driver as they are (no SQLAlchemy type processing either way), the execution context and
    cursor result it builds around every read were what a light page adds to its SQL
    (bench/RESULTS.md, sixteenth session). `Connection._cursor_execute` is SQLAlchemy's own narrow
    path (its sequences and defaults use it): the statement events still fire (the scope riding
    with the first statement, db/scope.py; the bench's capture) and a driver error is raised as
    SQLAlchemy's, a lost connection invalidated, as on any other read. The column names are read
    once per EXECUTE text."""
    cursor = connection.connection.cursor()
    try:
        connection._cursor_execute(cursor, sql, params)
        try:
            rows = cursor.fetchall()
        except BaseException as error:  # noqa: BLE001 (handed to SQLAlchemy, which raises it)
            connection._handle_dbapi_exception(error, sql, params, cursor, None)
        metadata = _COLUMNS.get(sql)
        if metadata is None:
            if len(_COLUMNS) >= MAX_PREPARED:
                _COLUMNS.clear()
            metadata = _COLUMNS[sql] = SimpleResultMetaData(tuple(column[0] for column in cursor.description))
    finally:
        cursor.close()
    return IteratorResult(metadata, iter(rows))


# An EXECUTE's result columns, by its text: a prepared statement's name is its content's digest
# (`generic_form`, `Prepared`), so the same text always gives the same columns.
_COLUMNS: dict[str, SimpleResultMetaData] = {}


def head_then_rest(session: Session, head: Executable, rest: Executable, *, limit: int, offset: int,
                   params: Mapping[str, Any] | None = None, prepared: bool = False, custom: bool = False) -> list:
    """The ids of one page of a list that is a short head (cases awaiting a reply, cases with open
    points: read whole up to the page's end, bound as `upto`) followed by everything else (read in
    its own order, bound `limit` and `offset`), each statement giving ids in its order.

    Why: one statement ordering both parts together ("awaiting first, then newest") can use no
    index, and sorted every case of the scope for a page of 50 (0.5 s for hq_admin's national list
    at 10,000,000 cases); apart, the rest is a walk of an index in its own order that stops at the
    page. The two statements must partition the list: every row in exactly one of them.
    `prepared` and `custom` as for `read`."""
    params = dict(params or {})
    first = list(read(session, head, {**params, "upto": offset + limit}, prepared=prepared, custom=custom).scalars())
    ids = first[offset:offset + limit]
    if len(first) < offset + limit:
        ids += read(session, rest, {**params, "limit": limit - len(ids), "offset": max(0, offset - len(first))},
                    prepared=prepared, custom=custom).scalars().all()
    return ids


def as_rows(cls: type[R], rows: Iterable[Sequence[Any]]) -> list[R]:
    """`cls(*row)` for each row of a list, for a frozen dataclass of plain fields, made faster.

    Why: a frozen dataclass's `__init__` sets each field through `object.__setattr__`, ~1.7 us for a
    list row of fifteen fields, 80 us for a page of 50: on a light page as much as SQLAlchemy's work
    around one statement (bench/RESULTS.md, seventeenth session). Filling the instance's `__dict__`
    makes the same object (equal, hashed and printed alike, still frozen) in under half the time. A
    class this cannot make alike (a `__post_init__`, slots, a field outside `__init__`) is built by
    its `__init__`; a row of the wrong width is refused as `__init__` would refuse it."""
    names = _plain_fields(cls)
    if names is None:
        return [cls(*row) for row in rows]
    width, new, built = len(names), object.__new__, []
    for row in rows:
        if len(row) != width:
            raise TypeError(f"{cls.__name__}: {len(row)} values for {width} fields")
        item = new(cls)
        item.__dict__.update(zip(names, row))
        built.append(item)
    return built


@lru_cache(maxsize=None)
def _plain_fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass whose instance is only its fields' values in `__dict__`, else None."""
    if (not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or hasattr(cls, "__slots__")
            or not cls.__dataclass_params__.frozen):
        return None
    fields = dataclasses.fields(cls)
    if any(not f.init for f in fields):
        return None
    return tuple(f.name for f in fields)


def among_ids(column: ColumnElement) -> ColumnElement[bool]:
    """`column` is one of the ids `rows_in_order` binds (an integer array, `ids`)."""
    return column == func.any(bindparam("ids", type_=ARRAY(Integer)))


def rows_in_order(session: Session, statement: Executable, ids: list, params: Mapping[str, Any] | None = None, *,
                  prepared: bool = False) -> list:
    """The rows `statement` gives for `ids` (bound as `ids`, see `among_ids`; its first column the
    id), in the order of `ids`."""
    if not ids:
        return []
    rows = {row[0]: row for row in read(session, statement, {**(params or {}), "ids": ids}, prepared=prepared)}
    return [rows[i] for i in ids if i in rows]


@dataclass(frozen=True)
class Prepared:
    """A big fixed read kept parsed and planned by PostgreSQL on each connection (PREPARE).

    Why: the case detail's timeline is one statement of twelve UNION ALL branches. Parsing and
    planning it took PostgreSQL ~1.5 ms on every call, more than running it for a typical case
    (bench/RESULTS.md, ours / SQL). A prepared statement is parsed once per connection; after a
    few runs PostgreSQL keeps a generic plan when it costs no more than planning each time.

    `sql` names its parameters `:name`; `types` gives each one's PostgreSQL type, in order.
    `generic`: always run its generic plan (plan_cache_mode for that EXECUTE's transaction), for a
    statement whose plan does not depend on the values given but whose planning is dear. The
    timeline reads a table partitioned by month: at 10,000,000 cases (36+ partitions) planning it
    each time took ~13 ms, its generic plan runs in ~2, yet PostgreSQL's own choice kept planning."""

    name: str
    sql: str
    types: tuple[tuple[str, str], ...]
    generic: bool = False

    def prepare_sql(self) -> str:
        return _prepare_sql(self)

    def execute_sql(self) -> str:
        return _execute_sql(self)

    def plain(self) -> TextClause:
        """The same read as an ordinary statement (where prepared statements are not allowed)."""
        return text(self.sql)


# Written once per statement: the timeline's PREPARE text is a regular-expression pass over twelve
# UNION ALL branches (~0.1 ms), and every run of the case page asked for it, prepared or not.
@lru_cache(maxsize=MAX_SHAPES)
def _prepare_sql(statement: Prepared) -> str:
    position = {param: i for i, (param, _type) in enumerate(statement.types, start=1)}

    def placeholder(match: re.Match) -> str:
        return f"${position[match.group(1)]}"

    body = _PARAM.sub(placeholder, statement.sql)
    return f"PREPARE {statement.name} ({', '.join(t for _p, t in statement.types)}) AS {body}"


@lru_cache(maxsize=MAX_SHAPES)
def _execute_sql(statement: Prepared) -> str:
    return f"EXECUTE {statement.name} ({', '.join(f'%({p})s' for p, _t in statement.types)})"


def prepared_statements_allowed() -> bool:
    """False when DATABASE_PREPARED_STATEMENTS=off: behind a transaction-mode connection pooler
    (PgBouncer), consecutive statements may reach different server connections, and a statement
    prepared on one is unknown on the next (docs/SCALING.md)."""
    return os.environ.get("DATABASE_PREPARED_STATEMENTS", "on").strip().lower() not in ("off", "0", "false", "no")


# `:name` but not the `::type` of a cast.
_PARAM = re.compile(r"(?<![:\w]):(?!:)([A-Za-z_]\w*)")
_PREPARED_KEY = "prepared_statements"
# Prepared statements one database connection keeps at most; past it they are all let go and
# prepared again as used (a few tens of KB each on the server).
MAX_PREPARED = 4 * MAX_SHAPES


def read_prepared(session: Session, statement: Prepared, params: Mapping[str, Any]) -> Result:
    """Run `statement` in the session's transaction, preparing it first on a connection that has
    not prepared it yet (`_execute_prepared`)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection()
    if not prepared_statements_allowed():
        return connection.execute(statement.plain(), dict(params))
    return _execute_prepared(connection, statement.name, statement.prepare_sql(), statement.execute_sql(),
                             {p: params[p] for p, _t in statement.types},
                             plan_mode="force_generic_plan" if statement.generic else None)


def json_rows(source: Subquery, *order_by: ColumnElement) -> ColumnElement:
    """Every row of `source` (all its columns) as one JSON array of arrays, `[]` when there is none:
    several small results of one page come back in one statement, one round trip."""
    row = func.json_build_array(*source.c)
    rows = func.json_agg(aggregate_order_by(row, *order_by)) if order_by else func.json_agg(row)
    return select(func.coalesce(rows, func.json_build_array())).select_from(source).scalar_subquery()
