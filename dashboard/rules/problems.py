"""A problem with one field of what a person typed or imported: which field, the catalog key of the
message that names it and says the fix, and the values the message needs. Rules produce them;
services raise them together (services/errors.ValidationFailed); pages show them."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    key: str
    params: dict[str, object] = field(default_factory=dict)
