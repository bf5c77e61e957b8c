"""The rest of issue 22 in one schema step: the working calendar, delivery channels with quiet hours
and digests, and violation appeals.

- `work_calendar_day`: the days that break the Monday–Friday rule (public holidays, including those
  on a weekend inside a holiday run, and the make-up working days, 调休), seeded from the PyPI
  package chinese-calendar; `work_calendar_year`: the years whose calendar is known (seeded ones,
  and those HQ admin confirms after entering them). A year without a row is warned about on the
  admin page, never silently read as all working days.
- `person.notify_channel` / `person.email`: where a person's messages leave the system (the
  outbox page, e-mail over SMTP, or the group robot's webhook).
- `notification`: `held` (waiting for working hours) and `digested` (folded into a digest, which
  `digest_id` names) states, `urgent` (a breach delivered at any hour), the channel it went by and
  `next_attempt_at` (retries back off).
- `violation_appeal`: a charged person's appeal and HQ's decision. The violation itself stays as
  recorded (it is append-only); an accepted appeal is what makes it exempt.

Revision ID: 0033
Revises: 0032
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

ROLES = ("claims_app", "claims_job")
# The settings HQ edits (docs/DOMAIN.md §4 and the delivery hours), stored so each carries a version.
_SETTINGS = {"deadline.D4.mode": "working", "deadline.D5.mode": "calendar", "deadline.D7.mode": "calendar",
             "deadline.D6.holiday_shift": "previous", "notify.work_from": "08:30", "notify.work_until": "18:00",
             "notify.urgent_amount": 1_000_000, "notify.retry_base_minutes": 1, "notify.max_attempts": 6}
_STATES_BEFORE = "state IN ('queued', 'sent', 'failed')"
_STATES = "state IN ('queued', 'held', 'digested', 'sent', 'failed')"


def _seed_calendar() -> None:
    from chinese_calendar import constants

    chinese = {h.value: h.chinese for h in constants.Holiday}  # the package names them in English
    days = [{"day": day, "working": False, "name": chinese.get(name, name)}
            for day, name in constants.holidays.items()]
    days += [{"day": day, "working": True, "name": f"{chinese.get(name, name)}调休"}
             for day, name in constants.workdays.items()]
    years = sorted({row["day"].year for row in days})
    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO work_calendar_day (day, working, name, source) "
                         "VALUES (:day, :working, :name, 'seed') ON CONFLICT (day) DO NOTHING"), days)
    conn.execute(sa.text("INSERT INTO work_calendar_year (year, source) VALUES (:year, 'seed') "
                         "ON CONFLICT (year) DO NOTHING"),
                 [{"year": y} for y in range(years[0], years[-1] + 1)])


def upgrade() -> None:
    op.create_table(
        "work_calendar_day",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(64)),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("changed_by", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("source IN ('seed', 'admin')", name="ck_work_calendar_day_source"),
    )
    op.create_table(
        "work_calendar_year",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("confirmed_by", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("source IN ('seed', 'admin')", name="ck_work_calendar_year_source"),
    )
    op.add_column("person", sa.Column("notify_channel", sa.String(16), nullable=False, server_default="outbox"))
    op.add_column("person", sa.Column("email", sa.String(254)))
    op.create_check_constraint("ck_person_notify_channel", "person",
                               "notify_channel IN ('outbox', 'email', 'webhook')")
    op.drop_constraint("ck_notification_state", "notification", type_="check")
    op.create_check_constraint("ck_notification_state", "notification", _STATES)
    op.add_column("notification", sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("notification", sa.Column("channel", sa.String(16)))
    op.add_column("notification", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("notification", sa.Column("digest_id", sa.BigInteger(), sa.ForeignKey("notification.id")))
    op.create_index("ix_notification_held", "notification", ["recipient_person_id", "id"],
                    postgresql_where=sa.text("state = 'held'"))
    op.create_index("ix_notification_failed", "notification", ["id"], postgresql_where=sa.text("state = 'failed'"))
    op.create_index("ix_notification_troubled", "notification", ["id"],
                    postgresql_where=sa.text("last_error IS NOT NULL AND state IN ('queued', 'failed')"))
    op.create_table(
        "violation_appeal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("violation_id", sa.Integer(), sa.ForeignKey("violation.id"), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text()),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("person.id")),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("comment", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="ck_violation_appeal_status"),
        sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="ck_violation_appeal_decided"),
        sa.CheckConstraint("decided_by IS NULL OR decided_by <> person_id", name="ck_violation_appeal_not_own"),
    )
    op.create_index("ix_violation_appeal_accepted", "violation_appeal", ["violation_id"],
                    postgresql_where=sa.text("status = 'accepted'"))
    op.create_index("ix_violation_appeal_pending", "violation_appeal", ["filed_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    for role in ROLES:
        op.execute(f"GRANT SELECT ON work_calendar_day, work_calendar_year, violation_appeal TO {role}")
        op.execute(f"GRANT INSERT, UPDATE ON violation_appeal TO {role}")
    op.execute("GRANT INSERT, UPDATE, DELETE ON work_calendar_day, work_calendar_year TO claims_app")
    op.execute("ALTER TABLE violation_appeal ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY claims_scope ON violation_appeal TO claims_app USING (claims_national() OR "
               "EXISTS (SELECT 1 FROM violation v WHERE v.id = violation_appeal.violation_id))")
    op.execute("CREATE POLICY claims_jobs ON violation_appeal TO claims_job USING (true) WITH CHECK (true)")
    # The kept violation counts drop by one when an appeal is accepted: late_count (migration 0020,
    # the tracker's national ranking) and the case's case_figures (migration 0019, the overview). Run as the table's owner, like the other count
    # triggers, since neither application role may write late_count.
    op.execute("""
        CREATE FUNCTION late_count_appeal_accepted() RETURNS trigger
          LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
            IF NEW.status = 'accepted' AND OLD.status IS DISTINCT FROM 'accepted' THEN
                INSERT INTO late_count (branch_id, kind, violations)
                SELECT v.branch_id, v.kind, -1 FROM violation v WHERE v.id = NEW.violation_id;
                UPDATE case_figures f
                   SET violations_d1 = f.violations_d1 - (v.kind = 'D1')::int,
                       violations_d2 = f.violations_d2 - (v.kind = 'D2')::int,
                       violations_d3 = f.violations_d3 - (v.kind = 'D3')::int,
                       violations_d4 = f.violations_d4 - (v.kind = 'D4')::int,
                       violations_d5 = f.violations_d5 - (v.kind = 'D5')::int,
                       violations_d6 = f.violations_d6 - (v.kind = 'D6')::int,
                       violations_d7 = f.violations_d7 - (v.kind = 'D7')::int
                  FROM violation v WHERE v.id = NEW.violation_id AND f.case_id = v.case_id;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER late_count_appeal_accepted AFTER UPDATE OF status ON violation_appeal "
               "FOR EACH ROW EXECUTE FUNCTION late_count_appeal_accepted()")
    _seed_calendar()
    conn = op.get_bind()
    for key, value in _SETTINGS.items():
        conn.execute(sa.text("INSERT INTO rule_setting (key, value) VALUES (:k, CAST(:v AS jsonb)) "
                             "ON CONFLICT (key) DO NOTHING"), {"k": key, "v": json.dumps(value)})


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM rule_setting WHERE key IN :keys").bindparams(
        sa.bindparam("keys", expanding=True)), {"keys": list(_SETTINGS)})
    op.execute("DROP TRIGGER late_count_appeal_accepted ON violation_appeal")
    op.execute("DROP FUNCTION late_count_appeal_accepted()")
    op.drop_table("violation_appeal")
    op.drop_index("ix_notification_troubled", table_name="notification")
    op.drop_index("ix_notification_failed", table_name="notification")
    op.drop_index("ix_notification_held", table_name="notification")
    for column in ("digest_id", "next_attempt_at", "channel", "urgent"):
        op.drop_column("notification", column)
    op.execute("UPDATE notification SET state = 'queued' WHERE state = 'held'")
    op.execute("UPDATE notification SET state = 'sent' WHERE state = 'digested'")  # its digest went
    op.drop_constraint("ck_notification_state", "notification", type_="check")
    op.create_check_constraint("ck_notification_state", "notification", _STATES_BEFORE)
    op.drop_constraint("ck_person_notify_channel", "person", type_="check")
    op.drop_column("person", "email")
    op.drop_column("person", "notify_channel")
    op.drop_table("work_calendar_year")
    op.drop_table("work_calendar_day")
