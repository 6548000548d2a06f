"""Casework's rules as data files. The confidentiality rules live in brightline.confidentiality,
shared with records."""

from brightline.confidentiality import Confidentiality
from brightline.confidentiality import load_confidentiality as _load


def load_confidentiality(path: str | None = None) -> Confidentiality:
    return _load(path)
