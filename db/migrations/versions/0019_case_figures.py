"""A case's clock, violation and HQ review figures, kept by the database in one row per case.

The executive overview sums, over the tiered cases reported in a period, their clocks met on time,
their violations by deadline type and their HQ review points. Read from `deadline`, `violation`
and `opinion` + `opinion_point`, that was an index probe per case in each table: ~40 ms for the
4,000 tiered cases of the default quarter at 1,000,000 cases, and ten times that for a few years.
`case_figures` holds the same sums per case, so the overview reads one row per case.

Kept by statement triggers on the three tables, whoever writes: each statement adds its new rows'
figures and takes away its old rows' (an update is both), summed per case, to the cases it
touched. `x = x + change` under the row's lock, so two writers of one case cannot lose each
other's change; rows are written in case order, so two multi-case statements cannot deadlock.
A statement that changes no figure (a clock's responsible person, say) writes nothing.

Whether an open clock is already decided (past its due time) depends on when one reads, so it is
not kept here: the overview subtracts the open clocks still ahead of their due time, read live.

Revision ID: 0019
Revises: 0018
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

KINDS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _clock_figures(t: str) -> dict[str, str]:
    met, on_time = f"{t}.met_at IS NOT NULL", f"{t}.met_at <= {t}.due_at"
    figures = {}
    for kind in ("D2", "D3"):
        is_kind = f"{t}.kind = '{kind}'"
        figures |= {f"{kind.lower()}_clocks": _flag(is_kind), f"{kind.lower()}_met": _flag(f"{is_kind} AND {met}"),
                    f"{kind.lower()}_on_time": _flag(f"{is_kind} AND {on_time}")}
    return figures | {"clocks": "1", "clocks_met": _flag(met), "clocks_on_time": _flag(on_time)}


# Per source table: its figures (column -> expression over a row `t`), the case a row belongs
# to, the join that finds it, and which rows count.
SOURCES: dict[str, dict] = {
    "deadline": dict(figures=_clock_figures, case="t.case_id", join="",
                     where="t.case_id IS NOT NULL AND t.cancelled_at IS NULL"),
    "violation": dict(figures=lambda t: {f"violations_{k.lower()}": _flag(f"{t}.kind = '{k}'") for k in KINDS},
                      case="t.case_id", join="", where="t.case_id IS NOT NULL"),
    "opinion_point": dict(
        figures=lambda t: {"hq_open_points": _flag(f"{t}.status IN ('open', 'sent_back')"),
                           "hq_answer_count": f"{t}.answer_count", "hq_answer_seconds": f"{t}.answer_seconds"},
        case="o.case_id", join="JOIN opinion o ON o.id = t.opinion_id",
        where="o.kind = 'hq_review' AND o.case_id IS NOT NULL"),
}


def _rows(table: str, rows: str, sign: str) -> str:
    """The figures of `rows` (a table or a transition table) per row, times `sign`."""
    source = SOURCES[table]
    figures = source["figures"]("t")
    columns = ", ".join(f"{sign}({expression})" for expression in figures.values())
    return f"SELECT {source['case']}, {columns} FROM {rows} t {source['join']} WHERE {source['where']}"


def _add(table: str, rows: str) -> str:
    """Add the summed change per case to case_figures, in case order, skipping cases it leaves as they were."""
    names = list(SOURCES[table]["figures"]("t"))
    sums = ", ".join(f"sum({n})" for n in names)
    changed = " OR ".join(f"sum({n}) <> 0" for n in names)
    return f"""
        INSERT INTO case_figures (case_id, {", ".join(names)})
        SELECT case_id, {sums} FROM ({rows}) AS d (case_id, {", ".join(names)})
         GROUP BY case_id HAVING {changed} ORDER BY case_id
        ON CONFLICT (case_id) DO UPDATE SET {", ".join(f"{n} = case_figures.{n} + EXCLUDED.{n}" for n in names)}
    """


TRIGGERS = (("INSERT", "REFERENCING NEW TABLE AS new_rows", (("new_rows", "+"),)),
            ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", (("new_rows", "+"), ("old_rows", "-"))),
            ("DELETE", "REFERENCING OLD TABLE AS old_rows", (("old_rows", "-"),)))


def upgrade() -> None:
    op.create_table(
        "case_figures",
        sa.Column("case_id", sa.Integer(), primary_key=True),
        *[sa.Column(name, sa.Integer(), nullable=False, server_default="0")
          for name in [*_clock_figures("t"), *(f"violations_{k.lower()}" for k in KINDS), "hq_open_points",
                       "hq_answer_count"]],
        sa.Column("hq_answer_seconds", sa.Float(), nullable=False, server_default="0"),
    )
    # The rows already there, as if each had just been inserted.
    for table in SOURCES:
        op.execute(_add(table, _rows(table, table, "+")))
    for table in SOURCES:
        for event, referencing, parts in TRIGGERS:
            name = f"case_figures_{table}_{event.lower()}"
            rows = " UNION ALL ".join(_rows(table, transition, sign) for transition, sign in parts)
            op.execute(f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    {_add(table, rows)};
                    RETURN NULL;
                END $$
            """)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def downgrade() -> None:
    for table in SOURCES:
        for event, _referencing, _parts in TRIGGERS:
            name = f"case_figures_{table}_{event.lower()}"
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("case_figures")
