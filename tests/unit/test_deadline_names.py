"""Each deadline type has one name across the pages: the short name (case detail, overview) is the
tracker's name without its time limit in brackets."""
from __future__ import annotations

import re

import pytest

from dashboard.i18n import CATALOG
from dashboard.rules.deadlines import DEADLINE_KINDS


@pytest.mark.parametrize("kind", DEADLINE_KINDS)
def test_short_and_full_deadline_names_agree(kind):
    for lang in (0, 1):
        full = CATALOG[f"deadlines.kind.{kind}"][lang]
        short = CATALOG[f"detail.deadline.{kind}"][lang]
        assert re.sub(r"\s*[（(][^（）()]*[)）]$", "", full) == short
