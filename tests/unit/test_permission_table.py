"""One permission table (issue 17): rules/permissions says which role may do what; every service
entry point declares the capability it needs and refuses everyone else; navigation shows each
role the pages whose capability it holds."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import dashboard.services as services
from dashboard.rules.permissions import CAPABILITIES, PAGE_CAPABILITY, ROLES, may, roles_with
from dashboard.services.actor import Actor, Assignment
from dashboard.services.errors import PermissionDenied
from dashboard.ui.navigation import PAGES, pages_for

ROOT = Path(__file__).resolve().parents[2]
# Building blocks other services call with an actor they have already admitted: they narrow a
# query to the actor's scope and decide nothing about capabilities.
SCOPE_HELPERS = {"actor.case_scope", "actor.case_row_scope", "actor.db_scope", "actor.unit_scope", "cases.access.load_review_case", "cases.access.review_scope",
                 "cases.access.within_case_scope",
                 "complaints.register.item_scope", "special_cases.approvals.waiting_for",
                 "special_cases.approvals.holds_level"}


def _entry_points():
    for info in pkgutil.walk_packages(services.__path__, prefix="dashboard.services."):
        module = importlib.import_module(info.name)
        short = info.name.removeprefix("dashboard.services.")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_") \
                    and "actor" in inspect.signature(function).parameters:
                yield f"{short}.{name}", function


ENTRY_POINTS = [(name, f) for name, f in _entry_points() if name not in SCOPE_HELPERS]


def _actor(role: str) -> Actor:
    return Actor(person_id=1, username=role, full_name=role,
                 assignments=(Assignment(role=role, unit_id=1, unit_level="hq", branch_id=None, position=None),))


def test_every_service_entry_point_declares_a_known_capability():
    assert len(ENTRY_POINTS) > 80
    undeclared = [name for name, f in ENTRY_POINTS if getattr(f, "capability", None) not in CAPABILITIES]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_a_role_without_the_capability_is_refused_before_anything_is_read(role):
    """session=None: a refused call must never reach the database."""
    actor = _actor(role)
    for name, function in ENTRY_POINTS:
        if role in roles_with(function.capability):
            continue
        at = list(inspect.signature(function).parameters).index("actor")
        with pytest.raises(PermissionDenied):
            function(*([None] * at), actor)


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_pages_are_the_pages_of_its_capabilities(role):
    shown = {p.key for p in pages_for(_actor(role))}
    assert shown == {page for page, capability in PAGE_CAPABILITY.items() if may({role}, capability)}
    assert "home" in shown and "case_detail" in shown  # everyone has a landing page and reads cases


def test_the_table_has_no_dead_entries():
    assert {p.key for p in PAGES} == set(PAGE_CAPABILITY)
    used = {f.capability for _name, f in ENTRY_POINTS} | set(PAGE_CAPABILITY.values())
    source = "\n".join(p.read_text() for p in [*ROOT.glob("pages/*.py"), *ROOT.glob("dashboard/**/*.py")])
    used |= {c for c in CAPABILITIES if f'may("{c}")' in source}
    assert set(CAPABILITIES) == used
    assert all(CAPABILITIES[c] <= set(ROLES) and CAPABILITIES[c] for c in CAPABILITIES)


def test_an_unknown_capability_fails_loudly():
    from dashboard.services.capability import requires

    with pytest.raises(KeyError):
        requires("case.reed")
    with pytest.raises(KeyError):
        _actor("surveyor").may("case.reed")


def test_no_role_list_is_written_outside_the_table():
    """Role tuples in services or pages were the drift this table replaces."""
    offenders = []
    for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("dashboard/services/**/*.py"), *ROOT.glob("dashboard/ui/*.py")]:
        for line in path.read_text().splitlines():
            if "_ROLES = " in line and "NATIONAL_ROLES" not in line and "PERSONAL_ROLES" not in line:
                offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []


def test_everyone_a_complaint_can_be_assigned_to_may_handle_it():
    """An assignee without complaint.handle (an HQ reviewer, once) got the item with no forms to act."""
    from dashboard.services.complaints.register import _HANDLERS, _HQ_HANDLERS

    assert set(_HANDLERS) | set(_HQ_HANDLERS) <= CAPABILITIES["complaint.handle"]
