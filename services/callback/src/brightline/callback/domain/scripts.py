"""The callback script (回访话术): rule data (rules/callback_script.yaml) described by a pydantic
model, filled in for one task. Wording follows seed 004 §3.4 and the repair example in §3.1."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str

    def fill(self, **values: str) -> dict[str, str]:
        return {"zh": self.zh.format(**values), "en": self.en.format(**values)}


class CallbackScriptRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    greeting: Text
    greeting_no_staff_no: Text
    who_named: Text
    who_unnamed: Text
    matter: dict[str, Text]
    result: Text
    repair_results: dict[str, Text]
    repair_cause: Text
    result_by_type: dict[str, Text]
    satisfaction: Text
    reason: Text
    words: Text
    closing: Text
    reminder: Text
    outcomes: dict[str, Text]

    def texts(self) -> list[Text]:
        """Every text an agent reads or a customer hears (for the wording checks)."""
        return [
            self.greeting,
            self.greeting_no_staff_no,
            self.who_named,
            self.who_unnamed,
            *self.matter.values(),
            self.result,
            *self.repair_results.values(),
            self.repair_cause,
            *self.result_by_type.values(),
            self.satisfaction,
            self.reason,
            self.words,
            self.closing,
            self.reminder,
        ]


def repair_result(r: CallbackScriptRules, resolution: str, cause: str | None) -> str | None:
    """What the callback says the crew did (the customer's language: Chinese), from the returned
    order's resolution and the cause the crew wrote; None for a resolution the rules lack."""
    done = r.repair_results.get(resolution)
    if done is None:
        return None
    cause = (cause or "").strip().rstrip("。．.，,")
    return r.repair_cause.zh.format(cause=cause, done=done.zh) if cause else done.zh


def callback_script(
    r: CallbackScriptRules,
    *,
    ticket_type: str,
    called_day: date,
    customer_name: str | None,
    unit_name: str,
    unit_name_en: str | None = None,
    staff_no: str | None = None,
    result: str | None = None,
) -> dict[str, Any]:
    """Steps an agent reads, in order; `records` names what the agent enters at that step.

    `called_day` is the day the customer called us (business timezone), not the day the ticket
    finished; `result` is the handling result (the answer given, the repair's resolution)."""
    matter = r.matter.get(ticket_type, r.matter["consultation"])
    greeting = r.greeting if staff_no else r.greeting_no_staff_no
    opening = {
        "zh": greeting.zh.format(unit_name=unit_name, staff_no=staff_no or ""),
        "en": greeting.en.format(unit_name=unit_name_en or unit_name, staff_no=staff_no or ""),
    }
    who = r.who_named.fill(customer_name=customer_name) if customer_name else r.who_unnamed.fill()
    day = {"zh": f"{called_day.month}月{called_day.day}日", "en": called_day.isoformat()}
    said = {
        "zh": matter.zh.format(day=day["zh"]),
        "en": matter.en.format(day=day["en"]),
    }
    check = r.result_by_type[ticket_type].fill() if ticket_type in r.result_by_type else None
    outcome_line: dict[str, str] | None
    if result:
        outcome_line = r.result.fill(result=result.rstrip("。．.") + "。")
        outcome_line["en"] = r.result.en.format(result=result)
    else:
        outcome_line, check = check, None
    steps: list[dict[str, Any]] = [
        {"id": "greeting", "zh": opening["zh"] + who["zh"], "en": f"{opening['en']} {who['en']}"},
        {"id": "matter", **said},
    ]
    if outcome_line:
        steps.append({"id": "result", **outcome_line})
    if check:  # the result told, the customer is still asked (a repair: is the power back?)
        steps.append({"id": "check", **check})
    steps += [
        {
            "id": "satisfaction",
            **r.satisfaction.fill(),
            "records": "outcome",
            "answers": [
                {"outcome": o, **r.outcomes[o].model_dump()}
                for o in ("satisfied", "basically_satisfied", "unsatisfied")
            ],
        },
        {
            "id": "reason",
            "when": {"outcome": "unsatisfied"},
            **r.reason.fill(),
            "records": "reason",
        },
        {"id": "words", **r.words.fill(), "records": "customer_words"},
        {"id": "closing", **r.closing.fill()},
    ]
    return {
        "default_language": "zh",
        "script": f"callback@{r.version}",
        "steps": steps,
        # Shown beside the live call, not read out: the customer hangs up first.
        "reminders": [{"id": "customer_hangs_up_first", **r.reminder.fill()}],
        "outcomes": [{"outcome": o, **t.model_dump()} for o, t in r.outcomes.items()],
    }
