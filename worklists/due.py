"""Due dates: an IWO is due 2 business days after receipt (weekends and federal holidays do not count).

Holidays come from `holidays.US` (the federal public holidays with their observed dates, e.g. 2026-07-03 for
July 4th on a Saturday). `holidays.financial` (NYSE) would be wrong here: it closes on Good Friday, which is
not a federal holiday, and stays open on Columbus Day and Veterans Day, which are.
"""

from __future__ import annotations

from datetime import date

import holidays
import polars as pl

IWO_BUSINESS_DAYS = 2


def federal_holidays(first_year: int, last_year: int) -> list[date]:
    return sorted(holidays.US(years=range(first_year, last_year + 1)))


def business_days_after(received: pl.Expr, days: int, first_year: int, last_year: int) -> pl.Expr:
    """`days` business days after `received`; a receipt on a weekend or holiday counts from the day before.

    (Received Saturday → the next business days are Monday (1) and Tuesday (2).) Holidays span the given
    years plus one, so a date late in December rolls into January correctly.
    """
    return received.dt.add_business_days(
        days, holidays=federal_holidays(first_year, last_year + 1), roll="backward"
    )
