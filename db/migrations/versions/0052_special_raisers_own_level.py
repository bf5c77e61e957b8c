"""Special-case requests stuck at their raiser's own level move on (docs/DOMAIN.md §8).

Until now a request raised by a holder of its chain's first level waited for that level, where the
raiser may not decide his own request: wherever he was the post's only holder (广州's sub-branch
claims head, in a walk), nobody could act and the request stuck for good. The service now counts
the raiser's own level passed by raising, and climbs one level when the chain would end at it
(services/special_cases/approvals.raised_chain). This upgrade applies the same to the requests
already waiting at their raiser's level: it records the pass (a decision by the raiser, its
comment saying it was recorded at the upgrade), moves the request to the next level, and appends
the level above when the raiser's was the last. The branch GM's own request at the top still waits
for another holder of that post, as the service leaves it.

The levels' posts are written out here, as they stood: a migration does not follow later settings.
No message is queued for the next level: its holders find the request on 特殊赔案审批 (待我审批) and
in the landing page's reminders. The downgrade leaves the recorded passes: they are history.

Revision ID: 0052
Revises: 0051
"""
from __future__ import annotations

from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None

LEVELS = ("sub_claims_head", "sub_gm", "branch_line_dept", "branch_gm")
POSTS = {"sub_claims_head": "sub_claims_head", "sub_gm": "sub_head", "branch_line_dept": "branch_line_head",
         "branch_gm": "branch_gm"}
SUB_LEVELS = ("sub_claims_head", "sub_gm")
COMMENT = "本人上报，本级视为同意（系统升级时补记）。"

_POST = "CASE s.chain[s.next_level + 1] " + " ".join(f"WHEN '{lv}' THEN '{post}'" for lv, post in POSTS.items()) + " END"
_ABOVE = "CASE s.chain[s.next_level + 1] " + " ".join(
    f"WHEN '{lv}' THEN '{above}'" for lv, above in zip(LEVELS, LEVELS[1:])) + " END"
_UNIT = (f"CASE WHEN s.chain[s.next_level + 1] IN ({', '.join(repr(lv) for lv in SUB_LEVELS)}) "
         "THEN coalesce(s.sub_branch_id, s.branch_id) ELSE s.branch_id END")

# One step: each pending request waiting at a level its raiser holds (below the top) passes it.
STEP = f"""
WITH stuck AS (
    SELECT s.id, s.chain[s.next_level + 1] AS level, s.raised_by,
           s.next_level + 1 = cardinality(s.chain) AS last, {_ABOVE} AS above
      FROM special_case s
     WHERE s.status = 'pending' AND s.chain[s.next_level + 1] <> '{LEVELS[-1]}'
       AND EXISTS (SELECT 1 FROM role_assignment r
                    WHERE r.person_id = s.raised_by AND r.role = 'first_responsible'
                      AND r.position = {_POST} AND r.unit_id = {_UNIT})
       FOR UPDATE OF s
), passed AS (
    INSERT INTO special_approval (special_case_id, level, decision, comment, person_id, at)
    SELECT id, level, 'approved', '{COMMENT}', raised_by, now() FROM stuck
)
UPDATE special_case s
   SET chain = CASE WHEN stuck.last THEN s.chain || stuck.above::varchar ELSE s.chain END,
       next_level = s.next_level + 1, version = s.version + 1
  FROM stuck WHERE s.id = stuck.id
"""


def upgrade() -> None:
    bind = op.get_bind()
    for _ in LEVELS:  # a raiser holding two posts in a row passes both
        if not bind.exec_driver_sql(STEP).rowcount:
            break


def downgrade() -> None:
    """Nothing to undo: the passes recorded are part of each request's history."""
