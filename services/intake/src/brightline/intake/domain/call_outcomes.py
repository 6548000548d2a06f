"""Calls that end without a repair or case ticket, as rule data (rules/call_outcomes.yaml).

Each is recorded as a consultation with its outcome and closed at once; the rules say whether it
is called back and what the agent says (paid service: the fee standard and contact number).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str


# Paid service is booked through the 95598 hotline itself (both grid companies run it
# nationwide); a local number, an extension or a made-up line is example data.
HOTLINE = "95598"
# The fee standard for paid service is set by the provincial price authority.
FEE_AUTHORITY = "省级价格主管部门"


class PaidService(BaseModel):
    """Paid service (有偿服务) for a fault inside the customer's installation: booked through the
    95598 hotline, charged at the provincial price authority's standard."""

    model_config = ConfigDict(extra="forbid")
    fee_standard: Text
    contact_number: str
    contact_name: Text

    @field_validator("contact_number")
    @classmethod
    def _a_real_service_line(cls, value: str) -> str:
        if value != HOTLINE:
            raise ValueError(
                f"{value!r} is not the {HOTLINE} hotline that books paid service "
                "(an example, a local number or an extension)"
            )
        return value

    @field_validator("fee_standard")
    @classmethod
    def _the_provincial_standard(cls, value: Text) -> Text:
        if FEE_AUTHORITY not in value.zh:
            raise ValueError(f"the fee standard must name {FEE_AUTHORITY}核定标准")
        return value


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
