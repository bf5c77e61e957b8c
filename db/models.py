"""SQLAlchemy 2.x typed models: the one schema behind every page, service and job.

Money is NUMERIC(14,2), times are timestamptz. Rows people edit carry `version` for
optimistic locking. `case_event` is the append-only history (a trigger refuses UPDATE/DELETE).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Computed, Date, DateTime, Float, ForeignKey, Index, Integer,
    LargeBinary, Numeric, SmallInteger, String, Text, UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dashboard import clock

Money = Numeric(14, 2)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


UNIT_LEVELS = ("hq", "branch", "sub_branch")
# Where a message leaves the system (migrations 0033, 0053): a person's choice, and the way a message went.
NOTIFY_CHANNELS = ("outbox", "email", "webhook")


class Base(DeclarativeBase):
    pass


class OrgUnit(Base):
    """HQ 总公司 → branch 分公司 → sub-branch 三级机构."""

    __tablename__ = "org_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    is_key_branch: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # A branch's highest claim authority (migration 0029); NULL: the major.branch_authority setting.
    claim_authority: Mapped[Decimal | None] = mapped_column(Money)
    __table_args__ = (CheckConstraint(_in("level", UNIT_LEVELS), name="ck_org_unit_level"),)


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    locale: Mapped[str] = mapped_column(String(8), server_default="zh")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    # Who disabled or restored the account last, and when (migration 0028): a stale change names them.
    status_changed_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the person's messages leave the system (migration 0033): the outbox page only, e-mail
    # (SMTP) or the group robot's webhook.
    notify_channel: Mapped[str] = mapped_column(String(16), server_default="outbox")
    email: Mapped[str | None] = mapped_column(String(254))
    __table_args__ = (
        CheckConstraint(_in("notify_channel", NOTIFY_CHANNELS), name="ck_person_notify_channel"),
    )


class RoleAssignment(Base):
    """A role held by a person in one unit; `position` names a first-responsible post."""

    __tablename__ = "role_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (
        UniqueConstraint("person_id", "role", "unit_id", "position", name="uq_role_assignment"),
        Index("ix_role_assignment_unit_position", "unit_id", "position"),
    )


class SupervisorAssignment(Base):
    """An exec supervisor (总公司执委) follows the tiered cases of a key branch."""

    __tablename__ = "supervisor_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    __table_args__ = (UniqueConstraint("person_id", "branch_id", name="uq_supervisor_branch"),)


class RuleSetting(Base):
    """Configurable numbers (deadline hours, session idle time) with docs/DOMAIN.md defaults seeded."""

    __tablename__ = "rule_setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # Two admins at once: the save names the version it drew; a stale one is refused (migration 0023).
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class TierRuleSet(Base):
    """A versioned tier table: national (branch_id NULL) or a branch's sub-tier request."""

    __tablename__ = "tier_rule_set"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint(_in("status", ("pending", "active", "rejected", "superseded")), name="ck_tier_rule_set_status"),
        UniqueConstraint("branch_id", "version", name="uq_tier_rule_set_version"),
    )


class RiskRuleSet(Base):
    """A version of the red / yellow / blue thresholds (migration 0029): one active at a time."""

    __tablename__ = "risk_rule_set"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())


class CatastropheEvent(Base):
    """A typhoon, a flood: many cases are tagged to it and become major cases (docs/DOMAIN.md §8)."""

    __tablename__ = "catastrophe_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_on: Mapped[date] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())


class TierRule(Base):
    __tablename__ = "tier_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("tier_rule_set.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    lower_exclusive: Mapped[Decimal] = mapped_column(Money)
    upper_inclusive: Mapped[Decimal | None] = mapped_column(Money)
    positions: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    hq_notice: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    rank: Mapped[int] = mapped_column(Integer)


class ClaimCase(Base):
    __tablename__ = "claim_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(40), unique=True)
    report_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accident_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(200))
    business_line: Mapped[str] = mapped_column(String(16))
    policy_no: Mapped[str] = mapped_column(String(40))
    policy_start_date: Mapped[date | None] = mapped_column(Date)
    insured_name: Mapped[str] = mapped_column(String(100))
    driver_name: Mapped[str | None] = mapped_column(String(100))
    reporter_name: Mapped[str] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    plate_no: Mapped[str | None] = mapped_column(String(20))
    vehicle_model: Mapped[str | None] = mapped_column(String(100))
    vehicle_age_years: Mapped[int | None] = mapped_column(Integer)
    vehicle_imported: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    vehicle_sum_insured: Mapped[Decimal | None] = mapped_column(Money)
    vehicle_use: Mapped[str | None] = mapped_column(String(16))
    accident_type: Mapped[str] = mapped_column(String(24))
    compulsory_only: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    sub_branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    surveyor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    description: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), server_default="reported")
    current_estimate: Mapped[Decimal | None] = mapped_column(Money)
    tier: Mapped[str] = mapped_column(String(16), server_default="T0")
    tier_rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("tier_rule_set.id"))
    tiered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by the database when the case's first dispatch is inserted (trigger, migration 0009).
    first_dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_major: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # What the red / yellow / blue rule reads beyond the report (migration 0029; rules/risk_colour).
    vehicle_damage: Mapped[Decimal | None] = mapped_column(Money)
    property_damage: Mapped[Decimal | None] = mapped_column(Money)
    loss_ratio_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    claim_count: Mapped[int | None] = mapped_column(Integer)
    accident_handling: Mapped[str | None] = mapped_column(String(16))
    surveyor_doubts: Mapped[list[str]] = mapped_column(ARRAY(String(24)), server_default="{}", default=list)
    doubt_reason: Mapped[str | None] = mapped_column(Text)
    # The rule's result, with the version it was classified by; NULL colour for a non-motor case.
    risk_colour: Mapped[str | None] = mapped_column(String(8))
    risk_criteria: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}", default=list)
    risk_rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("risk_rule_set.id"))
    # Major case (docs/DOMAIN.md §8): why, its named owner, the catastrophe it belongs to.
    major_reason: Mapped[str | None] = mapped_column(String(16))
    major_owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    major_flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    catastrophe_event_id: Mapped[int | None] = mapped_column(ForeignKey("catastrophe_event.id"))
    # What the quality scorecard reads (migration 0031, docs/DOMAIN.md §9): the amount paid, a closure
    # without payment (零结案, kept through a reopening), a forced registration (强迫立案, at intake),
    # and the first estimate (kept by a trigger on estimate).
    paid_amount: Mapped[Decimal | None] = mapped_column(Money)
    zero_closed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    forced_registration: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    first_estimate: Mapped[Decimal | None] = mapped_column(Money)
    first_estimated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            _in("state", ("reported", "surveyed", "dispatched", "investigating", "assessed",
                          "approved", "paid", "closed", "reopened")), name="ck_claim_case_state"),
        CheckConstraint(
            _in("business_line", ("motor", "property", "liability", "cargo", "life", "health", "accident")),
            name="ck_claim_case_line"),
        CheckConstraint("current_estimate IS NULL OR current_estimate >= 0", name="ck_claim_case_estimate"),
        CheckConstraint("paid_amount IS NULL OR paid_amount >= 0", name="ck_claim_case_paid"),
        Index("ix_claim_case_closed_at", "closed_at",
              postgresql_include=["branch_id", "business_line", "paid_amount", "report_time"],
              postgresql_where=text("closed_at IS NOT NULL")),
        CheckConstraint("accident_time <= report_time", name="ck_claim_case_times"),
        Index("ix_claim_case_branch_state", "branch_id", "state"),
        Index("ix_claim_case_sub_branch", "sub_branch_id"),
        Index("ix_claim_case_tier_report", "tier", "report_time"),
        Index("ix_claim_case_report_time", "report_time"),
        Index("ix_claim_case_surveyor", "surveyor_id"),
        Index("ix_claim_case_tiered_pending", "branch_id", "tiered_at",
              postgresql_include=["id", "case_no", "sub_branch_id", "tier", "state", "current_estimate"],
              postgresql_where=text("tier <> 'T0' AND state <> 'closed'")),
        Index("ix_claim_case_awaiting_estimate", "report_time",
              postgresql_where=text("state = 'reported' AND current_estimate IS NULL")),
        # The overview's period (migration 0039): read from the index alone.
        Index("ix_claim_case_tiered_report", "report_time",
              postgresql_include=["id", "branch_id", "sub_branch_id", "tier", "state", "current_estimate", "tiered_at",
                                  "first_dispatched_at", "risk_colour", "surveyor_id"],
              postgresql_where=text("tier <> 'T0'")),
        # The overview's estimated cases still waiting for a dispatch (migration 0051): those of the
        # last N hours are read live beside the kept per-day tallies.
        Index("ix_claim_case_tiered_waiting", "tiered_at",
              postgresql_include=["id", "report_time", "branch_id", "sub_branch_id", "tier", "surveyor_id"],
              postgresql_where=text("tier <> 'T0' AND tiered_at IS NOT NULL AND first_dispatched_at IS NULL")),
        Index("ix_claim_case_pending", "branch_id", "sub_branch_id",
              postgresql_include=["tier", "current_estimate", "surveyor_id"],
              postgresql_where=text("state <> 'closed'")),
        # The dispatch board in its order (migration 0042): the cases waiting, then the dispatched
        # ones by colour rank (services/cases/risk.colour_rank as rendered), newest report first.
        Index("ix_claim_case_board_waiting", text("report_time DESC"), text("id DESC"),
              postgresql_include=["tier", "state", "current_estimate", "branch_id", "sub_branch_id", "surveyor_id",
                                  "risk_colour", "first_dispatched_at"],
              postgresql_where=text("state <> 'closed' AND first_dispatched_at IS NULL AND "
                                    "(tier <> 'T0' OR (state = 'reported' AND current_estimate IS NULL))")),
        Index("ix_claim_case_board_dispatched",
              text("(CASE WHEN (risk_colour = 'red') THEN 0 WHEN (risk_colour = 'yellow') THEN 1 "
                   "WHEN (risk_colour = 'blue') THEN 2 ELSE 3 END)"), text("report_time DESC"), text("id DESC"),
              postgresql_include=["tier", "state", "current_estimate", "branch_id", "sub_branch_id", "surveyor_id",
                                  "risk_colour", "first_dispatched_at"],
              postgresql_where=text("state <> 'closed' AND first_dispatched_at IS NOT NULL")),
        # The followed cases' order (migration 0040): newest tiered first, walked to the page.
        Index("ix_claim_case_tiered_pending_time", text("tiered_at DESC NULLS LAST"), text("id DESC"),
              postgresql_include=["branch_id", "sub_branch_id", "surveyor_id", "risk_colour", "case_no"],
              postgresql_where=text("tier <> 'T0' AND state <> 'closed'")),
        # The cases open long (migration 0035): where the scorecard finds the stale ones.
        Index("ix_claim_case_long_open", "report_time", postgresql_include=["branch_id", "closed_at"],
              postgresql_where=text("closed_at IS NULL OR closed_at - report_time > interval '90 days'")),
        Index("ix_claim_case_long_open_branch", "branch_id", "report_time", postgresql_include=["closed_at"],
              postgresql_where=text("closed_at IS NULL OR closed_at - report_time > interval '90 days'")),
        Index("ix_claim_case_board", text("report_time DESC"), text("id DESC"),
              postgresql_include=["tier", "state", "current_estimate", "first_dispatched_at", "branch_id",
                                  "sub_branch_id", "risk_colour"],
              postgresql_where=text("state <> 'closed' AND (tier <> 'T0' OR "
                                    "(state = 'reported' AND current_estimate IS NULL))")),
    )



class CaseFigures(Base):
    """A case's clock, violation and HQ review figures, kept by the database (migration 0019).

    The executive overview sums these over the cases of a period. Reading them from `deadline`,
    `violation` and `opinion_point` took an index probe per case in each table (4,000 cases of a
    quarter: ~40 ms, growing with the period chosen); one row per case is one probe. Statement
    triggers on the three tables add each statement's change (+new, -old) to the cases it touched,
    whoever writes; a case with none of them has no row (every figure 0).

    Clocks count those not cancelled; `*_met` were met, `*_on_time` met by their due time. Whether
    an open clock is already decided (past due) depends on the time of reading, so it is not kept:
    the overview subtracts the open clocks still ahead of their due time (a few hundred, live)."""

    __tablename__ = "case_figures"
    case_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    d2_clocks: Mapped[int] = mapped_column(Integer, server_default="0")
    d2_met: Mapped[int] = mapped_column(Integer, server_default="0")
    d2_on_time: Mapped[int] = mapped_column(Integer, server_default="0")
    d3_clocks: Mapped[int] = mapped_column(Integer, server_default="0")
    d3_met: Mapped[int] = mapped_column(Integer, server_default="0")
    d3_on_time: Mapped[int] = mapped_column(Integer, server_default="0")
    clocks: Mapped[int] = mapped_column(Integer, server_default="0")
    clocks_met: Mapped[int] = mapped_column(Integer, server_default="0")
    clocks_on_time: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d1: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d2: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d3: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d4: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d5: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d6: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d7: Mapped[int] = mapped_column(Integer, server_default="0")
    hq_open_points: Mapped[int] = mapped_column(Integer, server_default="0")
    hq_answer_count: Mapped[int] = mapped_column(Integer, server_default="0")
    hq_answer_seconds: Mapped[float] = mapped_column(Float, server_default="0")


class LateCount(Base):
    """A change in the clocks met late and the violations of a branch and deadline type, written by
    the database (migration 0020): a row per branch and type for each statement that writes clocks
    or violations (+n / -n), folded by jobs.compact_case_counts. Read by the overdue tracker's
    national view (dashboard.services.clocks.overdue)."""

    __tablename__ = "late_count"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    branch_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(4))
    clocks_met_late: Mapped[int] = mapped_column(BigInteger, server_default="0")
    violations: Mapped[int] = mapped_column(BigInteger, server_default="0")
    __table_args__ = (Index("ix_late_count_unit", "branch_id", "kind",
                            postgresql_include=["clocks_met_late", "violations"]),)


class CaseCount(Base):
    """A change in the case figures of a sub-branch, written by the database (migrations 0015, 0018).

    Triggers on `claim_case` add a row per sub-branch for each statement that inserts or deletes
    cases (+n / -n) or changes a case's unit, state, tier or estimate; the sums are the
    sub-branch's case count, pending cases, pending tiered cases and their estimate. Only ever
    inserted, so writers never wait on one another; jobs.compact_case_counts folds the rows into
    one per sub-branch. Read through dashboard.services.cases.counts."""

    __tablename__ = "case_count"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    branch_id: Mapped[int] = mapped_column(Integer)
    sub_branch_id: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[int] = mapped_column(BigInteger, server_default="0")
    pending_tiered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    pending_tiered_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    __table_args__ = (Index("ix_case_count_unit", "branch_id", "sub_branch_id",
                            postgresql_include=["cases", "pending", "pending_tiered", "pending_tiered_amount"]),)


class CaseFiguresDay(Base):
    """A change in the kept figures (case_figures) of the cases of one branch and tier reported on
    one day (Asia/Shanghai), written by the database (migration 0045).

    Triggers on `case_figures` and on a case's report time, branch and tier add +n / -n rows;
    jobs.compact_case_counts folds them into one per key. Read by the executive overview's national
    headline and branch ranking (services/figures/overview)."""

    __tablename__ = "case_figures_day"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_day: Mapped[date] = mapped_column(Date)
    branch_id: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(16))
    d2_clocks: Mapped[int] = mapped_column(Integer, server_default="0")
    d2_on_time: Mapped[int] = mapped_column(Integer, server_default="0")
    d3_clocks: Mapped[int] = mapped_column(Integer, server_default="0")
    d3_on_time: Mapped[int] = mapped_column(Integer, server_default="0")
    clocks: Mapped[int] = mapped_column(Integer, server_default="0")
    clocks_on_time: Mapped[int] = mapped_column(Integer, server_default="0")
    hq_open_points: Mapped[int] = mapped_column(Integer, server_default="0")
    hq_answer_count: Mapped[int] = mapped_column(Integer, server_default="0")
    hq_answer_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    answered_cases: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d1: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d2: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d3: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d4: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d5: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d6: Mapped[int] = mapped_column(Integer, server_default="0")
    violations_d7: Mapped[int] = mapped_column(Integer, server_default="0")

    FIGURES = ("d2_clocks", "d2_on_time", "d3_clocks", "d3_on_time", "clocks", "clocks_on_time", "hq_open_points",
               "hq_answer_count", "hq_answer_seconds", "answered_cases", "violations_d1", "violations_d2",
               "violations_d3", "violations_d4", "violations_d5", "violations_d6", "violations_d7")
    __table_args__ = (
        Index("ix_case_figures_day_day", "report_day", postgresql_include=["branch_id", "tier", *FIGURES]),
    )


class CaseTallyDay(Base):
    """A change in the tiered cases of one branch and tier reported on one day (Asia/Shanghai):
    how many, pending and their estimate, dispatched (within the overview's window) or waiting, and
    by colour; written by the database (migration 0051).

    Triggers on `claim_case` add +n / -n rows, and a change of overview.dispatch_within_hours counts
    them again; jobs.compact_case_counts folds them into one per key. Read by the executive
    overview's national figures (services/figures/overview)."""

    __tablename__ = "case_tally_day"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_day: Mapped[date] = mapped_column(Date)
    branch_id: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(16))
    cases: Mapped[int] = mapped_column(Integer, server_default="0")
    pending: Mapped[int] = mapped_column(Integer, server_default="0")
    pending_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    dispatched: Mapped[int] = mapped_column(Integer, server_default="0")
    dispatched_within: Mapped[int] = mapped_column(Integer, server_default="0")
    waiting: Mapped[int] = mapped_column(Integer, server_default="0")
    red: Mapped[int] = mapped_column(Integer, server_default="0")
    yellow: Mapped[int] = mapped_column(Integer, server_default="0")
    blue: Mapped[int] = mapped_column(Integer, server_default="0")

    FIGURES = ("cases", "pending", "pending_amount", "dispatched", "dispatched_within", "waiting", "red", "yellow",
               "blue")
    __table_args__ = (Index("ix_case_tally_day_day", "report_day",
                            postgresql_include=["branch_id", "tier", *FIGURES]),)



class ViolationWeek(Base):
    """A change in the count of violations of the cases of one branch and tier reported on one day
    (Asia/Shanghai) whose deadline was missed in one week (Monday), by deadline type; written by the
    database (migration 0044).

    Triggers on `violation`, `violation_appeal` and `claim_case` add +n / -n rows (an accepted
    appeal's violation is not counted); jobs.compact_case_counts folds them into one per key. Read by
    the executive overview's violations-by-week chart (services/figures/overview)."""

    __tablename__ = "violation_week"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_day: Mapped[date] = mapped_column(Date)
    branch_id: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(16))
    week: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(4))
    violations: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_violation_week_day", "report_day",
              postgresql_include=["branch_id", "tier", "week", "kind", "violations"]),
    )


class ScorecardCell(Base):
    """A change in the quality scorecard's figures of the cases of one sub-branch reported in one
    month and closed in another (`infinity` while open), written by the database (migration 0035).

    Triggers on `claim_case` add a row per cell for each statement that inserts, deletes or changes
    cases (+n / -n); a change of `scorecard.small_claim` refills them. Only ever inserted, so writers
    never wait on one another; jobs.compact_case_counts folds the rows into one per cell. Read by
    dashboard.services.scorecard.computed: a period's indicators are sums over the cells."""

    __tablename__ = "scorecard_cell"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    branch_id: Mapped[int] = mapped_column(Integer)
    sub_branch_id: Mapped[int] = mapped_column(Integer)
    report_month: Mapped[date] = mapped_column(Date)
    close_month: Mapped[date] = mapped_column(Date)
    cases: Mapped[int] = mapped_column(BigInteger, server_default="0")
    forced: Mapped[int] = mapped_column(BigInteger, server_default="0")
    motor_zero: Mapped[int] = mapped_column(BigInteger, server_default="0")
    motor_zero_reopened: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_cases: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_sum: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    paid_estimated: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_estimate_sum: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    deviation_sum: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    deviation_base: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    motor_large_cases: Mapped[int] = mapped_column(BigInteger, server_default="0")
    motor_large_paid: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    small_cases: Mapped[int] = mapped_column(BigInteger, server_default="0")
    small_cycle_seconds: Mapped[Decimal] = mapped_column(Numeric, server_default="0")
    small_motor_transfers: Mapped[int] = mapped_column(BigInteger, server_default="0")
    small_motor_transfer_seconds: Mapped[Decimal] = mapped_column(Numeric, server_default="0")
    estimate_sum: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default="0")
    __table_args__ = (Index("ix_scorecard_cell_branch", "branch_id", "close_month", "report_month"),)


class Estimate(Base):
    """Every whole-case estimate (整案损失金额) the surveyor reports, never overwritten."""

    __tablename__ = "estimate"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    tier_before: Mapped[str] = mapped_column(String(16))
    tier_after: Mapped[str] = mapped_column(String(16))
    tier_rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("tier_rule_set.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    recorded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (CheckConstraint("amount >= 0", name="ck_estimate_amount"),)


class Dispatch(Base):
    """A first responsible person dispatched to a tiered case (调度)."""

    __tablename__ = "dispatch"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    position: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    reason: Mapped[str] = mapped_column(String(24))
    contact_state: Mapped[str] = mapped_column(String(16), server_default="notified")
    delegate_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    goes_to_scene: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    dispatched_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    __table_args__ = (
        CheckConstraint(
            _in("reason", ("initial", "escalation", "unreachable_next_tier", "other_person", "named_by_upper")),
            name="ck_dispatch_reason"),
        CheckConstraint(
            _in("contact_state", ("notified", "reached", "unreachable", "unavailable", "delegated")),
            name="ck_dispatch_contact_state"),
        UniqueConstraint("case_id", "person_id", "tier", name="uq_dispatch_case_person_tier"),
        Index("ix_dispatch_delegate", "delegate_person_id", postgresql_where=text("delegate_person_id IS NOT NULL")),
    )


class ContactAttempt(Base):
    __tablename__ = "contact_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), index=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    # Why not reached: 关机 / 无法接通 / 无人接听, or 出差 / 开会 (rules/contact_reasons.py, migration 0023).
    reason_code: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    delegate_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    recorded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    __table_args__ = (
        CheckConstraint(_in("outcome", ("reached", "unreachable", "unavailable")), name="ck_contact_outcome"),
    )


class Upload(Base):
    """Case material (scene photos, 人车合影, investigation report...); metadata plus content.

    Range-partitioned by month on uploaded_at (migration 0047): the database's key is (id,
    uploaded_at); `id` comes from one sequence, so the ORM addresses an upload by id alone."""

    __tablename__ = "upload"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Bytes of material uploaded before migration 0024 only; since then the bytes live in the
    # evidence folder under `storage_key` (docs/EVIDENCE.md: why not in the database).
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    on_behalf_of: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    # The type read from the content (never the name), e.g. image/jpeg; NULL for material from before 0024.
    content_type: Mapped[str | None] = mapped_column(String(100))
    # SHA-256 (hex) of the bytes as uploaded: every download is checked against it.
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Where the bytes are in the evidence store ("ab/abcdef…", the checksum); NULL: in `content`.
    storage_key: Mapped[str | None] = mapped_column(String(255))
    # A photo's EXIF capture time (DateTimeOriginal), when it has one.
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = ({"postgresql_partition_by": "RANGE (uploaded_at)"},)


# An open clock: neither met nor cancelled (the partial indexes of the clocks still running).
_OPEN_CLOCK = "met_at IS NULL AND cancelled_at IS NULL"


class Deadline(Base):
    """A clock (docs/DOMAIN.md §4 D1–D7) started by an event; `subject_key` makes it unique per event."""

    __tablename__ = "deadline"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("claim_case.id"), index=True)
    # The clock's branch (the case's when it started); required since migration 0020.
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(4))
    subject_key: Mapped[str] = mapped_column(String(64))
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    also_charged_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    met_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(_in("kind", ("D1", "D2", "D3", "D4", "D5", "D6", "D7")), name="ck_deadline_kind"),
        UniqueConstraint("kind", "subject_key", name="uq_deadline_subject"),
        # Carries what the tracker's counts and the row policy read (migration 0043): index-only.
        Index("ix_deadline_open_due", "due_at",
              postgresql_include=["kind", "case_id", "branch_id", "responsible_person_id", "also_charged_person_id",
                                  "met_at", "cancelled_at"],
              postgresql_where=text(_OPEN_CLOCK)),
        Index("ix_deadline_branch_due", "branch_id", "due_at"),
        Index("ix_deadline_tracker", "due_at",
              postgresql_include=["met_at", "id", "kind", "case_id", "branch_id", "responsible_person_id",
                                  "also_charged_person_id"],
              postgresql_where=text("cancelled_at IS NULL AND (met_at IS NULL OR met_at > due_at)")),
        # A type's late clocks, newest due first (migration 0041): the head of an on-time rate's list.
        Index("ix_deadline_late_kind", "kind", text("due_at DESC"), text("id DESC"),
              postgresql_include=["case_id", "met_at", "responsible_person_id", "branch_id"],
              postgresql_where=text("cancelled_at IS NULL AND (met_at IS NULL OR met_at > due_at)")),
        Index("ix_deadline_case_cover", "case_id", postgresql_include=["kind", "due_at", "met_at", "cancelled_at"]),
        # A person's open clocks (the landing page), migration 0021.
        Index("ix_deadline_open_responsible", "responsible_person_id", "due_at", postgresql_where=text(_OPEN_CLOCK)),
        Index("ix_deadline_open_also_charged", "also_charged_person_id", "due_at",
              postgresql_where=text(f"{_OPEN_CLOCK} AND also_charged_person_id IS NOT NULL")),
    )


class Violation(Base):
    """A deadline missed, charged to one person; recorded exactly once per (deadline, person)."""

    __tablename__ = "violation"
    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadline.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("claim_case.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(4))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    charge: Mapped[str] = mapped_column(String(16), server_default="responsible")
    __table_args__ = (
        UniqueConstraint("deadline_id", "person_id", name="uq_violation_deadline_person"),
        Index("ix_violation_branch_found", "branch_id", "found_at"),
    )


class ViolationAppeal(Base):
    """A charged person's appeal (申诉) of one violation and HQ's decision (migration 0033). The
    violation stays as recorded; an accepted appeal is what makes it exempt."""

    __tablename__ = "violation_appeal"
    id: Mapped[int] = mapped_column(primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("violation.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    __table_args__ = (
        CheckConstraint(_in("status", ("pending", "accepted", "rejected")), name="ck_violation_appeal_status"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="ck_violation_appeal_decided"),
        CheckConstraint("decided_by IS NULL OR decided_by <> person_id", name="ck_violation_appeal_not_own"),
        Index("ix_violation_appeal_accepted", "violation_id", postgresql_where=text("status = 'accepted'")),
        Index("ix_violation_appeal_pending", "filed_at", postgresql_where=text("status = 'pending'")),
    )


class WorkCalendarDay(Base):
    """A day that breaks the Monday–Friday rule: a public holiday or a make-up working day (调休)."""

    __tablename__ = "work_calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint(_in("source", ("seed", "admin")), name="ck_work_calendar_day_source"),)


class WorkCalendarYear(Base):
    """A year whose calendar is known (seeded from chinese-calendar, or confirmed by HQ admin)."""

    __tablename__ = "work_calendar_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint(_in("source", ("seed", "admin")), name="ck_work_calendar_year_source"),)


class ReviewQueueEntry(Base):
    """A tiered case placed on the HQ daily review queue (第四章 一.1)."""

    __tablename__ = "review_queue_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), unique=True)
    queue_date: Mapped[date] = mapped_column(Date, index=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The case's colour_rank() and tiered time, kept by the database (migration 0046): the queue's
    # order, walked from one index.
    colour_rank: Mapped[int] = mapped_column(SmallInteger, server_default="3")
    tiered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        # The cases still waiting for review: what the review page lists and counts (migration 0013).
        Index("ix_review_queue_entry_waiting", "case_id", postgresql_where=text("reviewed_at IS NULL")),
        Index("ix_review_queue_entry_order", "colour_rank", text("tiered_at DESC NULLS LAST"), text("case_id DESC"),
              postgresql_where=text("reviewed_at IS NULL")),
    )


class Opinion(Base):
    """An HQ initial review opinion (to the branch) or a supervision opinion (to the first responsible)."""

    __tablename__ = "opinion"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    addressed_to_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(_in("kind", ("hq_review", "supervision")), name="ck_opinion_kind"),
        # A branch's opinions still open: the answer form's list (migration 0016).
        Index("ix_opinion_open", "branch_id", "posted_at",
              postgresql_where=text("closed_at IS NULL AND kind = 'hq_review'")),  # 0048
    )


class OpinionPoint(Base):
    __tablename__ = "opinion_point"
    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Kept by the database (trigger point_answer_totals, migration 0008) as answers are inserted:
    # how many answers, and the seconds the branch took for them in all (for the overview's average).
    answer_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    answer_seconds: Mapped[float] = mapped_column(Float, server_default=text("0"))
    # Kept by the database (trigger deadline_keeps_point_due, migration 0049) as D5 clocks are
    # started: the due time of the point's newest answer round and that round; NULL without a clock.
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_round: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (
        CheckConstraint(_in("status", ("open", "answered", "sent_back", "accepted")), name="ck_point_status"),
        UniqueConstraint("opinion_id", "seq", name="uq_point_seq"),
        Index("ix_opinion_point_waiting", "opinion_id", postgresql_where=text("status IN ('open', 'sent_back')")),
        Index("ix_opinion_point_answered", "opinion_id", postgresql_where=text("status = 'answered'")),
    )


class PointAnswer(Base):
    __tablename__ = "point_answer"
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("opinion_point.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    late: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class PointVerdict(Base):
    __tablename__ = "point_verdict"
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("opinion_point.id"), index=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("point_answer.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    __table_args__ = (CheckConstraint(_in("verdict", ("accepted", "sent_back")), name="ck_verdict"),)


class ProgressNote(Base):
    """Progress reported by a first responsible person or recorded by the branch tracker."""

    __tablename__ = "progress_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"), index=True)
    opinion_id: Mapped[int | None] = mapped_column(ForeignKey("opinion.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())


class WeeklySummary(Base):
    __tablename__ = "weekly_summary"
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    week_start: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content: Mapped[Any] = mapped_column(JSONB)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # Kept by PostgreSQL from `content` (migration 0012): the weekly list reads three numbers per
    # summary without unpacking each branch's whole document.
    total_cases: Mapped[int | None] = mapped_column(
        Integer, Computed("((content -> 'totals') ->> 'cases')::integer", persisted=True))
    total_open_points: Mapped[int | None] = mapped_column(
        Integer, Computed("((content -> 'totals') ->> 'open_points')::integer", persisted=True))
    total_overdue_deadlines: Mapped[int | None] = mapped_column(
        Integer, Computed("((content -> 'totals') ->> 'overdue_deadlines')::integer", persisted=True))
    __table_args__ = (
        UniqueConstraint("branch_id", "week_start", name="uq_weekly_summary_week"),
        # The list's order, newest week first: its first page reads one week, not every summary.
        Index("ix_weekly_summary_week", "week_start"),
    )


class Notification(Base):
    """Outbox: rendered messages waiting for a pluggable sender (SMS gateway, mail).

    Range-partitioned by month on created_at (migration 0047): the database's key is (id,
    created_at); `id` comes from one sequence, so the ORM addresses a message by id alone. The
    dedupe key is unique through notification_key, claimed by the outbox's insert trigger."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("claim_case.id"), index=True)
    recipient_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    state: Mapped[str] = mapped_column(String(16), server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # read on 我的消息
    # Quiet hours and delivery (migration 0033): held outside working hours, then folded into one
    # digest (digest_id); an urgent breach is delivered at any hour; retries back off.
    urgent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    channel: Mapped[str | None] = mapped_column(String(16))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    digest_id: Mapped[int | None] = mapped_column(BigInteger)  # the digest it was folded into (no FK: 0047)
    __table_args__ = (
        CheckConstraint(_in("state", ("queued", "held", "digested", "sent", "failed")), name="ck_notification_state"),
        CheckConstraint(_in("channel", NOTIFY_CHANNELS), name="ck_notification_channel"),
        Index("ix_notification_held", "recipient_person_id", "id", postgresql_where=text("state = 'held'")),
        Index("ix_notification_failed", "id", postgresql_where=text("state = 'failed'")),
        Index("ix_notification_troubled", "id",
              postgresql_where=text("last_error IS NOT NULL AND state IN ('queued', 'failed')")),
        Index("ix_notification_queued", "id", postgresql_where=text("state = 'queued'")),
        Index("ix_notification_recipient_unread", "recipient_person_id", text("id DESC"),
              postgresql_where=text("read_at IS NULL")),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )


class NotificationKey(Base):
    """A queued message's dedupe key, unique over all time (migration 0047): claimed by the outbox's
    insert trigger; released when its month is archived. No role of the product reads it."""

    __tablename__ = "notification_key"
    dedupe_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CaseEvent(Base):
    """Append-only history: who did what to which case, with before/after; never updated."""

    __tablename__ = "case_event"
    # Range-partitioned by month on `at` (migration 0034): the key must hold `at`; `id` still comes
    # from one sequence, so it alone is unique in practice. Find an event by (id, at), or by case.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("claim_case.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True, default=clock.now,
                                         server_default=func.now())
    kind: Mapped[str] = mapped_column(String(48))
    payload: Mapped[Any] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    __table_args__ = (Index("ix_case_event_case_at", "case_id", "at"), {"postgresql_partition_by": "RANGE (at)"})


WEB_SESSION_END_REASONS = ("signed_out", "idle", "replaced", "disabled")


class WebSession(Base):
    """A signed-in browser session (migration 0022): it survives reloads and links until it ends.

    Only SHA-256 digests are stored: of the cookie's token, and of the one-time ticket that hands
    the token to the browser. Ending the row (sign-out, idle, a new sign-in in the same browser)
    ends the session in every tab and on every server.
    """

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    ticket_sha256: Mapped[str | None] = mapped_column(String(64))
    ticket_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_sha256: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), server_default="zh")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    established_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now,
                                                   server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (
        CheckConstraint(f"end_reason IS NULL OR {_in('end_reason', WEB_SESSION_END_REASONS)}",
                        name="ck_web_session_end_reason"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ck_web_session_ended"),
        Index("ix_web_session_ticket", "ticket_sha256", unique=True,
              postgresql_where=text("ticket_sha256 IS NOT NULL")),
        Index("ix_web_session_token", "token_sha256", unique=True,
              postgresql_where=text("token_sha256 IS NOT NULL")),
    )


class SignInAttempt(Base):
    """One sign-in attempt for a user name (migration 0026), known or not: five failures within the
    window lock the name for a while, and every server reads the same rows."""

    __tablename__ = "sign_in_attempt"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_sign_in_attempt_name_time", "username", "attempted_at"),)



SPECIAL_TYPES = ("A", "B", "C")
CUSTOMER_KINDS = ("key_customer", "prospect", "reputation")
SPECIAL_STATUSES = ("pending", "approved", "rejected")


class SpecialCase(Base):
    """A case raised as special (特殊赔案, docs/DOMAIN.md §8): the business unit's justification and
    the approval chain drawn when it was raised. It travels beside the case's claim flow."""

    __tablename__ = "special_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("claim_case.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    sub_branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    special_type: Mapped[str] = mapped_column(String(1))
    customer_kind: Mapped[str] = mapped_column(String(16))
    circumstances: Mapped[list[str]] = mapped_column(ARRAY(String(24)), server_default="{}")
    requested_amount: Mapped[Decimal] = mapped_column(Money)
    normal_amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    policy_numbers: Mapped[str | None] = mapped_column(Text)
    premium_written: Mapped[Decimal | None] = mapped_column(Money)
    premium_collected: Mapped[Decimal | None] = mapped_column(Money)
    paid_losses: Mapped[Decimal | None] = mapped_column(Money)
    pending_losses: Mapped[Decimal | None] = mapped_column(Money)
    past_loss_ratio_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    expected_premium: Mapped[Decimal | None] = mapped_column(Money)
    expected_premium_on: Mapped[date | None] = mapped_column(Date)
    customer_background: Mapped[str | None] = mapped_column(Text)
    chain: Mapped[list[str]] = mapped_column(ARRAY(String(24)))
    limits: Mapped[Any] = mapped_column(JSONB)
    next_level: Mapped[int] = mapped_column(Integer, server_default="0")
    status: Mapped[str] = mapped_column(String(12), server_default="pending")
    raised_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __table_args__ = (
        CheckConstraint(_in("special_type", SPECIAL_TYPES), name="ck_special_case_type"),
        CheckConstraint(_in("customer_kind", CUSTOMER_KINDS), name="ck_special_case_customer"),
        CheckConstraint(_in("status", SPECIAL_STATUSES), name="ck_special_case_status"),
        CheckConstraint("requested_amount >= 0 AND normal_amount >= 0 AND requested_amount >= normal_amount",
                        name="ck_special_case_amounts"),
        CheckConstraint("next_level >= 0 AND next_level <= cardinality(chain)", name="ck_special_case_level"),
        Index("uq_special_case_pending", "case_id", unique=True, postgresql_where=text("status = 'pending'")),
        Index("ix_special_case_case", "case_id"),
        Index("ix_special_case_branch_raised", "branch_id", "raised_at"),
    )


class SpecialApproval(Base):
    """One level's decision on a special case, with its comment; append-only."""

    __tablename__ = "special_approval"
    id: Mapped[int] = mapped_column(primary_key=True)
    special_case_id: Mapped[int] = mapped_column(ForeignKey("special_case.id"), index=True)
    level: Mapped[str] = mapped_column(String(24))
    decision: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("decision IN ('approved', 'rejected')", name="ck_special_approval_decision"),)


class ComplaintItem(Base):
    """A complaint, dispute or difficult case (docs/DOMAIN.md §7): registered, assigned, moved
    through the steps of rules/complaints.py, and archived only after a return visit."""

    __tablename__ = "complaint_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_no: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    cause: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("claim_case.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    sub_branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    complainant: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(16), server_default="registered")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    escalation_note: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str | None] = mapped_column(Text)
    mediation_outcome: Mapped[str | None] = mapped_column(String(8))
    mediation_note: Mapped[str | None] = mapped_column(Text)
    arbitration_result: Mapped[str | None] = mapped_column(Text)
    justified: Mapped[bool | None] = mapped_column(Boolean)
    apology: Mapped[str | None] = mapped_column(Text)
    measure: Mapped[str | None] = mapped_column(Text)
    handling_result: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(12))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_visit: Mapped[str | None] = mapped_column(Text)
    return_visited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __table_args__ = (
        CheckConstraint("kind IN ('complaint', 'dispute', 'difficult')", name="ck_complaint_item_kind"),
        CheckConstraint(_in("step", ("registered", "assigned", "escalated", "working_group", "mediation",
                                     "arbitration", "handled", "return_visited", "archived")),
                        name="ck_complaint_item_step"),
        CheckConstraint("mediation_outcome IS NULL OR mediation_outcome IN ('agreed', 'failed')",
                        name="ck_complaint_item_mediation"),
        CheckConstraint("outcome IS NULL OR outcome IN ('justified', 'unjustified', 'settled', 'mediated', "
                        "'arbitrated', 'resolved')", name="ck_complaint_item_outcome"),
        CheckConstraint("step <> 'archived' OR (return_visit IS NOT NULL AND return_visited_at IS NOT NULL)",
                        name="ck_complaint_item_visit_before_archive"),
        Index("ix_complaint_item_branch_registered", "branch_id", "registered_at"),
        Index("ix_complaint_item_open", "registered_at",
              postgresql_where=text("step NOT IN ('return_visited', 'archived')")),
        Index("ix_complaint_item_case", "case_id", postgresql_where=text("case_id IS NOT NULL")),
        Index("ix_complaint_item_unarchived", text("registered_at DESC"), text("id DESC"),
              postgresql_where=text("step <> 'archived'")),
    )


class ComplaintStep(Base):
    """One move of a complaint item from step to step, with its note; append-only."""

    __tablename__ = "complaint_step"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("complaint_item.id"), index=True)
    from_step: Mapped[str | None] = mapped_column(String(16))
    to_step: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScorecardIndicator(Base):
    """One indicator of the quality scorecard: its group, weight and scoring (rules/scorecard)."""

    __tablename__ = "scorecard_indicator"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    weight_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    source: Mapped[str] = mapped_column(String(8))
    scoring: Mapped[str] = mapped_column(String(20))
    full_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    zero_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    target: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    unit: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("group_key IN ('cost', 'management', 'service', 'special')", name="ck_scorecard_group"),
        CheckConstraint("weight_pct >= 0 AND weight_pct <= 100", name="ck_scorecard_weight"),
        CheckConstraint("source IN ('computed', 'entered')", name="ck_scorecard_source"),
        CheckConstraint("scoring IN ('linear', 'closeness', 'loss_ratio_bands')", name="ck_scorecard_scoring"),
    )


FINANCIAL_MONEY = ("premium", "ceded", "assumed", "unearned_change", "paid", "reserve_change", "reinsurance_paid",
                   "reinsurance_recovered", "subrogation")
FINANCIAL_PCT = ("loss_ratio_budget_pct", "indirect_expense_pct", "anti_fraud_score", "cross_region_score",
                 "parts_selection_pct")


class BranchFinancials(Base):
    """The financial figures of a branch for a period, entered by HQ (the scorecard's entered indicators)."""

    __tablename__ = "branch_financials"
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    period_kind: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    premium: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    ceded: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    assumed: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    unearned_change: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    paid: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    reserve_change: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    reinsurance_paid: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    reinsurance_recovered: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    subrogation: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    loss_ratio_budget_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    indirect_expense_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    anti_fraud_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    cross_region_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    parts_selection_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    entered_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __table_args__ = (
        CheckConstraint("period_kind IN ('year', 'quarter', 'month')", name="ck_branch_financials_kind"),
        UniqueConstraint("branch_id", "period_kind", "period_start", name="uq_branch_financials_period"),
    )
