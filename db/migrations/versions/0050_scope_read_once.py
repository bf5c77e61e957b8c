"""Row-level security reads the person's scope once per statement, not once per row.

Every policy of the application role (migration 0027 and those after it) tests a row against the
person's scope through four SQL functions reading the session's settings: `claims_national()`,
`claims_branches()`, `claims_sub_branches()`, `claims_me()`. Called bare they are inlined into the
row filter and evaluated for every row read: the national flag compared as text, and for a branch
person the branch list parsed from text into an integer array, row after row. The executive
overview's 24,000 kept violation rows of 90 days took 5.1 ms to scan with that filter and 2.6 ms
with the scope read once; its sort of them (the filter's selectivity guessed at 1 %, 121 rows
expected) 13.7 ms against 5.5 ms hashed (bench/RESULTS.md).

Written as a scalar subquery, `(SELECT claims_national())`, each becomes an InitPlan: evaluated
once per statement, its value a parameter of the row filter. The functions are STABLE and the
settings are set once per transaction before any read (ui/db.py), so a statement sees one value
either way: what a person may read is unchanged, only how often it is worked out. A branch list is
cast back to `integer[]` so that `= ANY (...)` compares with the array's elements rather than with
a one-row subquery.

Every policy of the application role is rewritten here from its current text, whatever migration
created it. A policy added later must be written the same way; a test checks that no policy calls
a scope function bare (tests/integration/test_row_level_security.py).

Revision ID: 0050
Revises: 0049
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None

ROLE = "claims_app"
# The scope functions: (name, what its subquery is cast to; None: a scalar compared as it is).
SCOPE_FUNCTIONS = {"claims_national": None, "claims_me": None, "claims_branches": "integer[]",
                   "claims_sub_branches": "integer[]"}
_BARE = re.compile(r"(?<!SELECT )\b(" + "|".join(SCOPE_FUNCTIONS) + r")\(\)")
# How PostgreSQL prints the subquery back (pg_policies): "( SELECT claims_me() AS claims_me)", with
# "::integer[]" after it for a list.
_ONCE = re.compile(r"\(\s*SELECT (" + "|".join(SCOPE_FUNCTIONS) + r")\(\) AS \w+\)(?:::integer\[\])?")


def read_once(expression: str) -> str:
    """A policy expression with each bare scope function call made a scalar subquery."""
    def once(match: re.Match) -> str:
        name = match.group(1)
        cast = SCOPE_FUNCTIONS[name]
        return f"((SELECT {name}())::{cast})" if cast else f"(SELECT {name}())"
    return _BARE.sub(once, expression)


def read_per_row(expression: str) -> str:
    """The inverse of `read_once` on the printed form: bare calls again."""
    return _ONCE.sub(lambda match: f"{match.group(1)}()", expression)


def _rewrite(change) -> None:
    bind = op.get_bind()
    policies = bind.execute(sa.text(
        "SELECT tablename, policyname, qual, with_check FROM pg_policies "
        "WHERE schemaname = 'public' AND :role = ANY (roles) ORDER BY tablename, policyname"), {"role": ROLE}).all()
    for table, name, using, check in policies:
        clauses = []
        if using is not None and change(using) != using:
            clauses.append(f"USING ({change(using)})")
        if check is not None and change(check) != check:
            clauses.append(f"WITH CHECK ({change(check)})")
        if clauses:
            op.execute(f'ALTER POLICY "{name}" ON "{table}" {" ".join(clauses)}')


def upgrade() -> None:
    _rewrite(read_once)


def downgrade() -> None:
    _rewrite(read_per_row)
