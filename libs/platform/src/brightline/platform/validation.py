"""Validators shared by request schemas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, Field


def unique_by(*keys: str) -> AfterValidator:
    """A list whose items must differ in `keys`: a bulk import naming one key twice is refused
    with 422 at the edge (PostgreSQL's ON CONFLICT cannot update one row twice in a statement,
    and which of two rows should win is the sender's decision, not ours)."""

    def check(items: Sequence[Any]) -> Sequence[Any]:
        seen: dict[tuple[Any, ...], int] = {}
        for index, item in enumerate(items):
            key = tuple(getattr(item, name) for name in keys)
            if key in seen:
                raise ValueError(
                    f"items {seen[key]} and {index} have the same {', '.join(keys)}: {key}"
                )
            seen[key] = index
        return items

    return AfterValidator(check)


# A business day a report can be asked about: the hotline's records start this century and a
# date far beyond the calendar is a typo. Outside this range PostgreSQL cannot even hold the
# window's end (9999-12-31 + 1 day), so it is refused at the edge with 422.
EARLIEST_BUSINESS_DAY = date(2000, 1, 1)
LATEST_BUSINESS_DAY = date(2099, 12, 31)
BusinessDay = Annotated[date, Field(ge=EARLIEST_BUSINESS_DAY, le=LATEST_BUSINESS_DAY)]
