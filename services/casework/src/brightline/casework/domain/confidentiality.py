"""Who sees a case, and who may read its reporter's identity: the shared rules of
brightline.confidentiality (records applies the same file to its search and timeline)."""

from brightline.confidentiality import (
    CONTACT_FIELDS,
    CaseTypeRule,
    Confidentiality,
    ConfidentialityFile,
    ReaderRule,
    Viewer,
)

__all__ = [
    "CONTACT_FIELDS",
    "CaseTypeRule",
    "Confidentiality",
    "ReaderRule",
    "ConfidentialityFile",
    "Viewer",
]
