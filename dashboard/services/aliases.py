"""Named aliases of the org-unit and person tables, made once and shared by the services' queries.

Why: a statement that joins a table twice (a case's branch and its sub-branch, an opinion's author
and its addressee) needs an alias per role, and an alias made inside the function rebuilt a proxy
of every column of the table on each call: ~0.3 ms per alias, a third of the Python time of a
list page whose SQL takes a few milliseconds (bench/RESULTS.md). Aliases are immutable, so one
per role serves every statement; a statement must not use one role twice.
"""
from __future__ import annotations

from sqlalchemy.orm import aliased

from db.models import OrgUnit, Person

BRANCH = aliased(OrgUnit, name="branch")
SUB_BRANCH = aliased(OrgUnit, name="sub_branch")
SURVEYOR = aliased(Person, name="surveyor")
DISPATCHED_PERSON = aliased(Person, name="dispatched_person")
DELEGATE = aliased(Person, name="delegate")
AUTHOR = aliased(Person, name="author")
ADDRESSEE = aliased(Person, name="addressee")
ANSWER_AUTHOR = aliased(Person, name="answer_author")
DECIDER = aliased(Person, name="decider")
REQUESTER = aliased(Person, name="requester")
RESPONSIBLE = aliased(Person, name="responsible")
ALSO_CHARGED = aliased(Person, name="also_charged")
CHARGED = aliased(Person, name="charged")  # the person a violation is recorded against
