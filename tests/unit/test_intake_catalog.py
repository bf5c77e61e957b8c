"""Every message key the intake, board and rules code names exists in both languages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.i18n import CATALOG

ROOT = Path(__file__).resolve().parents[2]
FILES = ("pages/intake.py", "pages/dispatch_board.py", "pages/admin_rules.py", "dashboard/ui/forms.py",
         "dashboard/ui/tier_editor.py", "dashboard/services/cases/intake.py", "dashboard/services/cases/import_file.py",
         "dashboard/services/admin/tier_admin.py", "dashboard/services/dispatching/board.py")
LITERAL_KEY = re.compile(r"""["']((?:cases|board|admin|common|page|tier|state|position|dispatch|unit)\.[a-z0-9_.]+)["']""")
# Capabilities (rules/permissions) are named like keys but are not messages.
CAPABILITY = re.compile(r"""(?:may|requires)\(["'][a-z_.]+["']\)""")


@pytest.mark.parametrize("path", FILES)
def test_every_literal_message_key_is_in_the_catalog(path):
    source = CAPABILITY.sub("", (ROOT / path).read_text(encoding="utf-8"))
    keys = {k for k in LITERAL_KEY.findall(source) if not k.endswith(".")}
    missing = sorted(k for k in keys if k not in CATALOG and not k.startswith(("admin.setting.deadline", "admin.setting.session")))
    assert missing == []


def test_every_editable_setting_and_choice_has_a_label():
    from dashboard.rules.case_input import CHOICE_FIELDS, INPUT_FIELDS
    from dashboard.services.admin.tier_admin import EDITABLE_SETTINGS

    assert all(f"admin.setting.{k}" in CATALOG for k in EDITABLE_SETTINGS)
    assert all(f"cases.field.{f}" in CATALOG for f in INPUT_FIELDS)
    assert all(f"{prefix}.{c}" in CATALOG for prefix, codes, _ in CHOICE_FIELDS.values() for c in codes)
    assert all(len(pair) == 2 and all(pair) for key, pair in CATALOG.items() if key.startswith(("cases.", "board.", "admin.")))
