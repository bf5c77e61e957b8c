"""A tier table as the HQ admin types it (分级管理办法 第一章 二.8, 注意3; docs/DOMAIN.md §3): every
problem of every row named at once, before anything is saved. Pure: no database."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from dashboard.rules.amounts import parse_amount
from dashboard.rules.problems import FieldError
from dashboard.rules.tiers import TierBand, TierTableError, validate_table
from dashboard.settings import ALL_POSITIONS

MAX_PERSONS_PER_TIER = 2  # docs/DOMAIN.md §3: one or two first responsible persons


@dataclass
class BandInput:
    """One row of a tier table as typed by the admin (amounts as text or Decimal)."""

    code: str
    lower_exclusive: Decimal | str | None
    upper_inclusive: Decimal | str | None
    positions: tuple[str, ...] | list[str]
    hq_notice: bool = False


def _amount(value: object) -> Decimal | None:
    """A band bound, or None for a blank one; AmountProblem (a ValueError) when it is not an amount."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_amount(value)


def check_bands(rows: list[BandInput], *, span: tuple[Decimal, Decimal] | None = None) -> tuple[list[TierBand], list[FieldError]]:
    """Turn admin input into bands; every problem is a FieldError on "band.<n>.<column>" (n from 1).

    National table (`span` None): contiguous from its lowest bound, only the last band open-ended.
    Branch split: the bands must cover exactly `span` (50,000–500,000).
    """
    errors: list[FieldError] = []
    bands: list[TierBand] = []
    if not rows:
        return [], [FieldError("bands", "admin.error.no_bands")]
    codes: set[str] = set()
    for n, row in enumerate(rows, start=1):
        code = (row.code or "").strip()
        if (not code or len(code) > 16 or code == "T0" or code in codes
                or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in code)):  # a NUL reached PostgreSQL
            errors.append(FieldError(f"band.{n}.code", "admin.error.band_code", {"n": n}))
        codes.add(code)
        bounds: list[Decimal | None] = []
        for column, raw in (("lower", row.lower_exclusive), ("upper", row.upper_inclusive)):
            try:
                bounds.append(_amount(raw))
            except ValueError:
                errors.append(FieldError(f"band.{n}.{column}", "admin.error.band_amount", {"n": n, "value": str(raw)}))
                bounds.append(None)
        lower, upper = bounds
        if lower is None and not any(e.field == f"band.{n}.lower" for e in errors):
            errors.append(FieldError(f"band.{n}.lower", "admin.error.band_lower_required", {"n": n}))
        if lower is not None and upper is not None and upper <= lower:
            errors.append(FieldError(f"band.{n}.upper", "admin.error.band_order", {"n": n}))
        positions = tuple(p for p in (row.positions or ()) if p)
        if (not positions or len(positions) > MAX_PERSONS_PER_TIER or len(set(positions)) != len(positions)
                or any(p not in ALL_POSITIONS for p in positions)):
            errors.append(FieldError(f"band.{n}.positions", "admin.error.band_positions",
                                     {"n": n, "max": MAX_PERSONS_PER_TIER}))
        bands.append(TierBand(code, lower if lower is not None else Decimal(0), upper, positions,
                              bool(row.hq_notice), n))
    if errors:
        return bands, errors
    ordered_bands = sorted(bands, key=lambda b: b.lower_exclusive)
    for i, band in enumerate(ordered_bands):
        if band.upper_inclusive is None and i != len(ordered_bands) - 1:
            errors.append(FieldError(f"band.{band.rank}.upper", "admin.error.band_open_not_last", {"n": band.rank}))
        if i and ordered_bands[i - 1].upper_inclusive != band.lower_exclusive:
            errors.append(FieldError(f"band.{band.rank}.lower", "admin.error.band_gap",
                                     {"n": band.rank, "code": band.code, "previous": ordered_bands[i - 1].code}))
    if span is None:
        if ordered_bands[-1].upper_inclusive is not None:
            errors.append(FieldError(f"band.{ordered_bands[-1].rank}.upper", "admin.error.band_last_open"))
    elif ordered_bands[0].lower_exclusive != span[0] or ordered_bands[-1].upper_inclusive != span[1]:
        errors.append(FieldError("bands", "admin.error.band_span", {"low": f"{span[0]:,.0f}", "high": f"{span[1]:,.0f}"}))
    if not errors:
        try:
            validate_table(ordered_bands)  # the engine's own check, as a last guard
        except TierTableError:
            errors.append(FieldError("bands", "admin.error.bands_invalid"))
    ranked = [TierBand(b.code, b.lower_exclusive, b.upper_inclusive, b.positions, b.hq_notice, rank)
              for rank, b in enumerate(ordered_bands, start=1)]
    return ranked, errors
