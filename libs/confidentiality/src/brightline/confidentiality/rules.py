"""The confidentiality rules as data, and the decisions they make. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, field_validator

from brightline.platform.rulefile import load_rule_file, parse_rules

CONTACT_FIELDS = ("caller_name", "phone", "address", "customer_id")


class Confidential(Protocol):
    """What the rules look at: a case in casework, a ticket view in records."""

    @property
    def case_type(self) -> str: ...

    @property
    def department_id(self) -> str | None: ...

    @property
    def first_ask_owner(self) -> str | None: ...

    @property
    def reported_party(self) -> str | None: ...


def normalise_name(value: str | None) -> str:
    """How a reported party and a staff identity are compared: without case and spaces."""
    return "".join((value or "").split()).casefold()


def names_match(reported_party: str | None, *identities: str | None) -> bool:
    """Is this staff member the one named in a report? Compared without case and spaces."""
    if not reported_party:
        return False
    wanted = normalise_name(reported_party)
    return any(i and normalise_name(i) == wanted for i in identities)


@dataclass(frozen=True)
class Viewer:
    subject: str
    roles: frozenset[str]
    name: str | None = None
    staff_no: str | None = None
    department_id: str | None = None

    @property
    def identities(self) -> tuple[str, ...]:
        """The normalised names a reported party is compared with."""
        return tuple(
            n for n in (normalise_name(i) for i in (self.subject, self.name, self.staff_no)) if n
        )


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReaderRule(_Rules):
    role: str
    department: Literal["handling"] | None = None  # the department the case is with
    first_ask_owner: bool = False

    def admits(self, case: Confidential, viewer: Viewer) -> bool:
        if self.role not in viewer.roles:
            return False
        if self.department == "handling" and (
            viewer.department_id is None or viewer.department_id != case.department_id
        ):
            return False
        return not (self.first_ask_owner and viewer.subject != case.first_ask_owner)


class CaseTypeRule(_Rules):
    contact_readers: tuple[ReaderRule, ...] = ()
    hidden_from_reported_party: bool = False
    # Records (search and timeline across services): who finds such a ticket at all. None = whoever
    # sees the case in casework. identity_shown False = records never shows the caller's identity
    # (it is read in casework only, through its audited contact read).
    found_by: tuple[ReaderRule, ...] | None = None
    identity_shown: bool = True


class ConfidentialityFile(_Rules):
    """confidentiality.yaml: a rule per case type, and the `default` for every other type."""

    version: int | None = None
    case_types: dict[str, CaseTypeRule]

    @field_validator("case_types")
    @classmethod
    def _has_default(cls, types: dict[str, CaseTypeRule]) -> dict[str, CaseTypeRule]:
        if "default" not in types:
            raise ValueError("needs a `default` entry")
        return types


@dataclass(frozen=True)
class Confidentiality:
    rules: dict[str, CaseTypeRule]
    default: CaseTypeRule

    @classmethod
    def from_file(cls, file: ConfidentialityFile) -> Confidentiality:
        rules = dict(file.case_types)
        default = rules.pop("default")
        return cls(rules, default)

    def rule_for(self, case_type: str) -> CaseTypeRule:
        return self.rules.get(case_type, self.default)

    def is_named_in(self, case: Confidential, viewer: Viewer) -> bool:
        return self.rule_for(case.case_type).hidden_from_reported_party and names_match(
            case.reported_party, viewer.subject, viewer.name, viewer.staff_no
        )

    def may_see_case(self, case: Confidential, viewer: Viewer) -> bool:
        """Named staff never see the case; caseworkers see only their own department's cases."""
        if self.is_named_in(case, viewer):
            return False
        if "supervisor" in viewer.roles or "agent" in viewer.roles or "integration" in viewer.roles:
            return True
        if "caseworker" in viewer.roles:
            return viewer.department_id is not None and viewer.department_id == case.department_id
        return False

    def may_read_contact(self, case: Confidential, viewer: Viewer) -> bool:
        if not self.may_see_case(case, viewer):
            return False
        return any(
            rule.admits(case, viewer) for rule in self.rule_for(case.case_type).contact_readers
        )

    # --- records: search and timeline across services ---------------------------------------

    def restricted(self, case_type: str) -> bool:
        """Is finding such a ticket limited beyond seeing the case (and so audited)?"""
        return self.rule_for(case_type).found_by is not None

    def may_find(self, case: Confidential, viewer: Viewer) -> bool:
        """May the viewer find this case in a search, or open its timeline?"""
        found_by = self.rule_for(case.case_type).found_by
        if found_by is None:
            return self.may_see_case(case, viewer)
        if self.is_named_in(case, viewer):
            return False
        return any(rule.admits(case, viewer) for rule in found_by)

    def may_see_identity(self, case: Confidential, viewer: Viewer) -> bool:
        """May records show the caller's name, phone and address of this case?"""
        return self.rule_for(case.case_type).identity_shown and self.may_read_contact(case, viewer)


def load_confidentiality(path: str | None = None) -> Confidentiality:
    """The rules from `path`, or the ones shipped with this package; a broken file raises
    brightline.platform.rulefile.RuleFileError naming file, path and line."""
    if path:
        return Confidentiality.from_file(load_rule_file(ConfidentialityFile, Path(path)))
    raw = resources.files(__package__).joinpath("confidentiality.yaml").read_text("utf-8")
    return Confidentiality.from_file(parse_rules(ConfidentialityFile, raw, "confidentiality.yaml"))
