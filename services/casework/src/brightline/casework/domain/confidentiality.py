"""Who sees a case, and who may read its reporter's identity. Pure: the rules come as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brightline.casework.domain.model import Case, names_match

CONTACT_FIELDS = ("caller_name", "phone", "address", "customer_id")


@dataclass(frozen=True)
class Viewer:
    subject: str
    roles: frozenset[str]
    name: str | None = None
    staff_no: str | None = None
    department_id: str | None = None


@dataclass(frozen=True)
class ReaderRule:
    role: str
    department: str | None = None  # "handling": the department the case is with
    first_ask_owner: bool = False

    def admits(self, case: Case, viewer: Viewer) -> bool:
        if self.role not in viewer.roles:
            return False
        if self.department == "handling" and (
            viewer.department_id is None or viewer.department_id != case.department_id
        ):
            return False
        return not (self.first_ask_owner and viewer.subject != case.first_ask_owner)


@dataclass(frozen=True)
class CaseTypeRule:
    contact_readers: tuple[ReaderRule, ...]
    hidden_from_reported_party: bool


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class Confidentiality:
    rules: dict[str, CaseTypeRule]
    default: CaseTypeRule

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Confidentiality:
        types = (data or {}).get("case_types")
        if not isinstance(types, dict) or "default" not in types:
            raise RulesError("confidentiality rules need case_types with a `default` entry")
        parsed: dict[str, CaseTypeRule] = {}
        for case_type, raw in types.items():
            readers = []
            for n, entry in enumerate(raw.get("contact_readers") or []):
                if not isinstance(entry, dict) or "role" not in entry:
                    raise RulesError(f"{case_type}.contact_readers[{n}] needs a role")
                if entry.get("department") not in (None, "handling"):
                    raise RulesError(
                        f"{case_type}.contact_readers[{n}]: department must be 'handling'"
                    )
                readers.append(
                    ReaderRule(
                        str(entry["role"]),
                        entry.get("department"),
                        bool(entry.get("first_ask_owner", False)),
                    )
                )
            parsed[case_type] = CaseTypeRule(
                tuple(readers), bool(raw.get("hidden_from_reported_party", False))
            )
        default = parsed.pop("default")
        return cls(parsed, default)

    def rule_for(self, case_type: str) -> CaseTypeRule:
        return self.rules.get(case_type, self.default)

    def is_named_in(self, case: Case, viewer: Viewer) -> bool:
        return self.rule_for(case.case_type).hidden_from_reported_party and names_match(
            case.reported_party, viewer.subject, viewer.name, viewer.staff_no
        )

    def may_see_case(self, case: Case, viewer: Viewer) -> bool:
        """Named staff never see the case; caseworkers see only their own department's cases."""
        if self.is_named_in(case, viewer):
            return False
        if "supervisor" in viewer.roles or "agent" in viewer.roles or "integration" in viewer.roles:
            return True
        if "caseworker" in viewer.roles:
            return viewer.department_id is not None and viewer.department_id == case.department_id
        return False

    def may_read_contact(self, case: Case, viewer: Viewer) -> bool:
        if not self.may_see_case(case, viewer):
            return False
        return any(
            rule.admits(case, viewer) for rule in self.rule_for(case.case_type).contact_readers
        )
