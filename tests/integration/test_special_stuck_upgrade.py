"""Requests stuck at their raiser's own level move on at the upgrade (migration 0052): before it, a
sub-branch claims head's own request waited for himself, and where he was the post's only holder
nobody could decide it. The upgrade passes his level, as the service now does on raising."""
from __future__ import annotations

from alembic import command
from sqlalchemy import text

from dashboard.services.special_cases.approvals import SpecialRequest, decide_special, raise_special, special_cases
from db.schema import alembic_config
from tests.factories import T0, make_case


def _request(amount: str, kind: str = "key_customer") -> SpecialRequest:
    extra = (dict(customer_background="省属重点国企") if kind == "reputation" else
             dict(policy_numbers="PDAA2026000001", premium_written="1200000", premium_collected="1200000",
                  paid_losses="300000", pending_losses="0", past_loss_ratio_pct="35"))
    return SpecialRequest(special_type="B", customer_kind=kind, requested_amount=amount, normal_amount="0",
                          reason="客户要求按原厂配件价格赔付", **extra)


def _state(conn, special_id: int) -> tuple:
    return conn.execute(text("SELECT chain, next_level, status, version FROM special_case WHERE id = :i"),
                        {"i": special_id}).one()


def test_the_upgrade_moves_a_request_waiting_for_its_own_raiser_and_leaves_the_others(
        db_url, session, org, actor_for, owner):
    manager = actor_for("gd_manager")
    # Raised as the old code drew them: the raiser is then made the one the chain starts with.
    two_levels = raise_special(session, manager, make_case(session, org, "gz").id, _request("30000"), now=T0).id
    one_level = raise_special(session, manager, make_case(session, org, "gz").id, _request("5000"), now=T0).id
    top = raise_special(session, manager, make_case(session, org, "gz").id, _request("5000", "reputation"),
                        now=T0).id
    untouched = raise_special(session, manager, make_case(session, org, "gz").id, _request("30000"), now=T0).id
    session.commit()
    with owner.begin() as conn:
        for special_id, raiser in ((two_levels, "gz_claims"), (one_level, "gz_claims"), (top, "gd_gm")):
            conn.execute(text("UPDATE special_case SET raised_by = :p WHERE id = :i"),
                         {"p": org.person(raiser), "i": special_id})
        before = {i: _state(conn, i) for i in (top, untouched)}
    session.close()

    command.downgrade(alembic_config(db_url), "0051")
    command.upgrade(alembic_config(db_url), "head")

    with owner.begin() as conn:
        assert _state(conn, two_levels) == (["sub_claims_head", "sub_gm"], 1, "pending", 2)
        assert _state(conn, one_level) == (["sub_claims_head", "sub_gm"], 1, "pending", 2)  # climbed one
        assert {i: _state(conn, i) for i in (top, untouched)} == before
        passes = conn.execute(text("SELECT special_case_id, level, decision, person_id FROM special_approval "
                                   "ORDER BY special_case_id")).tuples().all()
        assert passes == [(two_levels, "sub_claims_head", "approved", org.person("gz_claims")),
                          (one_level, "sub_claims_head", "approved", org.person("gz_claims"))]
    head = actor_for("gz_head")
    waiting = {r.id for r in special_cases(session, head, mine_only=True)[1]}
    assert waiting == {two_levels, one_level}
    done = decide_special(session, head, one_level, "approved", "同意", expected_version=2, now=T0)
    assert done.status == "approved"

    # Run again, it finds nothing more to move.
    command.downgrade(alembic_config(db_url), "0051")
    command.upgrade(alembic_config(db_url), "head")
    with owner.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM special_approval")).scalar() == 3
