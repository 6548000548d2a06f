"""brightline.confidentiality — who sees a complaint or report, and who may read its reporter's
identity. One rules file (confidentiality.yaml, data not code) shared by casework, which owns the
cases, and records, which lets staff search them; pure: no I/O beyond loading the file."""

from brightline.confidentiality.rules import (
    CONTACT_FIELDS,
    CaseTypeRule,
    Confidential,
    Confidentiality,
    ConfidentialityFile,
    ReaderRule,
    Viewer,
    load_confidentiality,
    names_match,
    normalise_name,
)

__all__ = [
    "CONTACT_FIELDS",
    "CaseTypeRule",
    "Confidential",
    "Confidentiality",
    "ReaderRule",
    "ConfidentialityFile",
    "Viewer",
    "load_confidentiality",
    "names_match",
    "normalise_name",
]
