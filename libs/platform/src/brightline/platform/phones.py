"""One spelling per phone number, wherever numbers are compared: intake's customer directory and
caller cards, records' search. Pure."""

from __future__ import annotations

import re

_NOT_DIGIT = re.compile(r"\D")


def normalise_phone(raw: str | None) -> str | None:
    """Digits only, without China's +86 / 0086 country code; None when there are no digits.

    "+86 139-0000-0001", "139 0000 0001" and "13900000001" are the same mobile; a landline
    written with the country code ("+86 10 6512 3456") gets back its trunk 0 ("01065123456").
    """
    if not raw:
        return None
    had_plus = raw.strip().startswith("+")
    digits = _NOT_DIGIT.sub("", raw)
    if not digits:
        return None
    country = False
    if digits.startswith("0086"):
        digits, country = digits[4:], True
    elif digits.startswith("86") and (had_plus or len(digits) in (12, 13)):
        digits, country = digits[2:], True
    is_mobile = len(digits) == 11 and digits.startswith("1")
    if country and not is_mobile and not digits.startswith("0"):
        digits = "0" + digits  # a landline's area code without its trunk prefix
    return digits or None
