"""Calls that end without a repair or case ticket, as rule data (rules/call_outcomes.yaml).

Each is recorded as a consultation with its outcome and closed at once; the rules say whether it
is called back and what the agent says (paid service: the fee standard and contact number).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str


class PaidService(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fee_standard: Text
    contact_number: str
    contact_name: Text


class CallOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Text
    reported_as: str
    callback: bool
    say: Text


class CallOutcomeBook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    paid_service: PaidService
    outcomes: dict[str, CallOutcome]

    def say(self, outcome: str, language: str = "zh") -> str:
        """What the agent says for this outcome, with the paid-service data filled in."""
        lang = "en" if language == "en" else "zh"
        paid = self.paid_service
        words: str = getattr(self.outcomes[outcome].say, lang)
        return words.format(
            contact_number=paid.contact_number,
            contact_name=getattr(paid.contact_name, lang),
            fee_standard=getattr(paid.fee_standard, lang),
        )
