"""The callback script (回访话术) as data, in Mandarin and English.

Wording follows seed 004 §3.4 and the repair example in §3.1: greet and name the hotline, check
we speak to the right person, say what was done, ask about satisfaction, record the customer's
words, thank, and let the customer hang up first. Pure data; the route fills in the contact.
"""

from __future__ import annotations

from datetime import date

OUTCOME_LABELS = {
    "satisfied": {"zh": "满意", "en": "Satisfied"},
    "basically_satisfied": {"zh": "基本满意", "en": "Basically satisfied"},
    "unsatisfied": {"zh": "不满意", "en": "Unsatisfied"},
    "unreachable": {"zh": "无法接通", "en": "Could not reach the customer"},
    "declined": {"zh": "拒绝回访", "en": "Customer declined the callback"},
}

# What the customer asked for, by ticket type, as said on the phone.
MATTER = {
    "repair": {
        "zh": "{day}报修的停电故障,我们的抢修任务已经完成,请问您那里有电了吗?",
        "en": "the power fault you reported on {day}: our repair crew has finished. Is your power back?",
    },
    "consultation": {
        "zh": "{day}咨询的业务,我们已经为您答复办结。",
        "en": "the question you asked us on {day}: we have answered it and closed it.",
    },
    "service_request": {
        "zh": "{day}申请的服务,我们已经为您办理完毕。",
        "en": "the service you requested on {day}: it has been done.",
    },
    "complaint": {
        "zh": "您在{day}投诉的问题,我们已经处理并答复了您。",
        "en": "the complaint you made on {day}: we have dealt with it and replied to you.",
    },
    "report": {
        "zh": "您在{day}举报的问题,我们已经按规定处理并答复。",
        "en": "the matter you reported on {day}: it has been handled and answered as the rules require.",
    },
    "opinion": {
        "zh": "您在{day}提出的意见,我们已经转交有关部门处理并答复。",
        "en": "the opinion you gave us on {day}: it was passed on, handled and answered.",
    },
    "suggestion": {
        "zh": "您在{day}提出的建议,我们已经转交有关部门研究并答复。",
        "en": "the suggestion you made on {day}: it was passed on, considered and answered.",
    },
    "praise": {
        "zh": "您在{day}对我们工作的表扬,我们已经转达给相关同事。",
        "en": "the praise you gave us on {day}: we have passed it on to the colleagues concerned.",
    },
}


def callback_script(*, ticket_type: str, finished_day: date, customer_name: str | None) -> dict:
    """Steps an agent reads, in order; `records` names what the agent enters at that step."""
    matter = MATTER.get(ticket_type, MATTER["consultation"])
    day_zh = f"{finished_day.month}月{finished_day.day}日"
    who_zh = f"请问您是{customer_name}先生/女士吗?" if customer_name else "请问是这个号码的机主吗?"
    who_en = (
        f"Am I speaking with {customer_name}?"
        if customer_name
        else "Am I speaking with the holder of this number?"
    )
    return {
        "default_language": "zh",
        "steps": [
            {
                "id": "greeting",
                "zh": f"您好!我是95598供电服务热线。打扰您了,{who_zh}",
                "en": f"Hello, this is the 95598 power service hotline. Sorry to disturb you. {who_en}",
            },
            {
                "id": "matter",
                "zh": "关于您" + matter["zh"].format(day=day_zh),
                "en": "We are calling about " + matter["en"].format(day=finished_day.isoformat()),
            },
            {
                "id": "satisfaction",
                "zh": "请问您对我们的处理结果和服务满意吗?满意、基本满意,还是不满意?",
                "en": "Are you satisfied with how we handled it and with our service: satisfied, basically "
                "satisfied, or unsatisfied?",
                "records": "outcome",
                "answers": [
                    {"outcome": o, **OUTCOME_LABELS[o]}
                    for o in ("satisfied", "basically_satisfied", "unsatisfied")
                ],
            },
            {
                "id": "reason",
                "when": {"outcome": "unsatisfied"},
                "zh": "请问您不满意的原因是什么?我们会详细记录,并重新为您处理。",
                "en": "May I ask why you are not satisfied? We will record it in full and handle it again.",
                "records": "reason",
            },
            {
                "id": "words",
                "zh": "您还有什么意见和建议吗?",
                "en": "Is there anything else you would like to tell us?",
                "records": "customer_words",
            },
            {
                "id": "closing",
                "zh": "感谢您的配合,欢迎您拨打95598供电服务热线。再见!(请待客户先挂机)",
                "en": "Thank you for your time; call 95598 whenever you need us. Goodbye! (Let the customer hang up first.)",
            },
        ],
        "outcomes": [{"outcome": o, **labels} for o, labels in OUTCOME_LABELS.items()],
    }
