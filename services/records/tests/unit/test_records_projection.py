"""The projection, pure: phones normalised one way, substrings as grams, personal data kept out
of the timeline, unknown types kept, and the same view whatever order events arrive in."""

import itertools
from datetime import UTC, datetime, timedelta

from brightline.confidentiality import Viewer, load_confidentiality
from brightline.records.adapters.repository import FOLD, Fold, TicketView
from brightline.records.domain.model import (
    NO_DEPARTMENT,
    Observed,
    TicketChange,
    like_pattern,
    normalise_phone,
    project,
    query_grams,
    selective_grams,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def event(type_: str, data: dict, n: int) -> Observed:
    return Observed(f"e{n}", type_, "/test", data.get("ticket_id", "x"), T0, data)


def test_one_phone_written_many_ways_is_one_number():
    for written in (
        "13912345678",
        "+86 139 1234 5678",
        "+86-139-1234-5678",
        "0086 13912345678",
        "8613912345678",
        "139-1234-5678",
    ):
        assert normalise_phone(written) == "13912345678", written
    assert normalise_phone("+86 10 6512 3456") == "01065123456"
    assert normalise_phone("010-6512-3456") == "01065123456"
    assert normalise_phone("--") is None


def test_substrings_become_bigrams_and_a_safe_like_pattern():
    assert query_grams("幸福 路") == ["幸福", "福路"]
    assert query_grams("幸") == ["幸"]
    assert like_pattern("50%_a") == "%50\\%\\_a%"


RECORDED = {
    "ticket_id": "t1",
    "ticket_no": "2026120100000119",
    "ticket_type": "repair",
    "recorded_at": (T0 + timedelta(minutes=1)).isoformat(),
    "first_ask_owner": "agent-7",
    "description": "没电了",
    "call_id": "c1",
    "caller_name": "赵六",
    "phone": "+86 139-1234-5678",
    "address": "幸福路88号",
}


def test_the_recording_fills_the_view_and_keeps_the_caller_out_of_the_timeline():
    p = project(event("brightline.intake.ticket.recorded.v1", RECORDED, 1))
    [entry] = p.entries
    assert entry.kind == "ticket.recorded" and entry.call_id == "c1"
    assert "phone" not in entry.data and "caller_name" not in entry.data
    assert "address" not in entry.data and entry.data["ticket_no"] == "2026120100000119"
    [change] = p.changes
    assert change.recording.phone_norm == "13912345678"
    assert change.status == "recorded" and change.owner == "agent-7"


def test_a_linked_repeat_call_shows_on_the_original_ticket_too():
    p = project(
        event(
            "brightline.intake.ticket.recorded.v1",
            {
                **RECORDED,
                "ticket_id": "t2",
                "ticket_type": "consultation",
                "linked_ticket_id": "t1",
            },
            2,
        )
    )
    assert [(e.kind, e.ticket_id) for e in p.entries] == [
        ("ticket.recorded", "t2"),
        ("ticket.linked", "t1"),
    ]


def test_an_outage_update_links_the_tickets_it_adds_to_the_incident():
    """v2 names only the tickets an update adds (v1 named them all each time)."""
    p = project(
        event(
            "brightline.dispatch.outage.updated.v2",
            {
                "incident_id": "inc-1",
                "updated_at": (T0 + timedelta(minutes=3)).isoformat(),
                "added_ticket_ids": ["t7"],
                "status": "confirmed",
            },
            3,
        )
    )
    assert [(e.kind, e.incident_id) for e in p.entries] == [("incident.updated", "inc-1")]
    assert p.entries[0].occurred_at == T0 + timedelta(minutes=3)
    assert p.incident_links == [("t7", "inc-1")]


def test_an_unknown_event_type_is_kept_generically():
    p = project(
        Observed(
            "e9",
            "brightline.meter.reading.taken.v3",
            "/meter",
            "m1",
            T0,
            {"ticket_id": "t1", "phone": "139", "value": 42},
        )
    )
    [entry] = p.entries
    assert entry.kind == "other" and entry.ticket_id == "t1" and entry.occurred_at == T0
    assert entry.data == {"ticket_id": "t1", "value": 42}


def test_rates_are_not_part_of_a_ticket():
    assert project(event("brightline.callback.rate.computed.v1", {"key": "k"}, 3)).entries == []


def fold(changes: list[TicketChange]) -> dict:
    """The upsert's merge rules over a dict: what the SQL does, to show order does not matter."""
    view: dict = {"breached": False}
    for c in changes:
        if c.recording:
            view["recording"] = c.recording
        for name in ("status", "owner", "unit_id"):
            value = getattr(c, name)
            if value is not None and (
                name not in view or (c.stamp.at, c.stamp.event_id) > view[name][1]
            ):
                view[name] = (value, (c.stamp.at, c.stamp.event_id))
        view["breached"] = view["breached"] or c.breached
    return view


def LIFE() -> list[Observed]:  # noqa: N802 - a constant's name, built afresh per test
    """A repair ticket's life, a breach and an owner change."""
    at = lambda m: (T0 + timedelta(minutes=m)).isoformat()  # noqa: E731
    return [
        event("brightline.intake.ticket.recorded.v1", RECORDED, 1),
        event(
            "brightline.dispatch.work-order.created.v1",
            {
                "work_order_id": "w1",
                "ticket_id": "t1",
                "unit_id": "u1",
                "area_class": "urban",
                "created_at": at(2),
            },
            2,
        ),
        event(
            "brightline.dispatch.work-order.status-changed.v1",
            {
                "work_order_id": "w1",
                "ticket_id": "t1",
                "unit_id": "u1",
                "status": "on_site",
                "previous_status": "en_route",
                "changed_at": at(20),
            },
            3,
        ),
        event(
            "brightline.sla.deadline.breached.v1",
            {
                "deadline_id": "d1",
                "limit_key": "repair.arrival.urban",
                "policy_pack": "seed",
                "subject_type": "work_order",
                "subject_id": "w1",
                "ticket_id": "t1",
                "due_at": at(46),
                "breached_at": at(46),
            },
            4,
        ),
        event(
            "brightline.intake.ticket.owner-changed.v1",
            {
                "ticket_id": "t1",
                "previous_owner": "agent-7",
                "new_owner": "agent-8",
                "reason": "handover",
                "changed_by": "agent-7",
                "changed_at": at(30),
            },
            5,
        ),
    ]


def test_the_view_ends_the_same_in_any_order():
    events = LIFE()
    view = fold([c for e in events for c in project(e).changes])
    for order in itertools.permutations(events):
        assert fold([c for e in order for c in project(e).changes]) == view
    assert view["status"][0] == "on_site" and view["owner"][0] == "agent-8"
    assert view["breached"] is True


def ticket(**fields) -> TicketView:
    base = dict(
        ticket_id="t",
        ticket_no="n",
        ticket_type="report",
        recorded_at=T0,
        first_ask_owner="agent-7",
        owner="agent-7",
        status="case_opened",
        unit_id=None,
        department_id="dept-a",
        call_id=None,
        customer_id=None,
        caller_name="甲",
        phone="139",
        address="路",
        area_code=None,
        anonymous=False,
        reported_party="李四",
        linked_ticket_id=None,
        has_breached=False,
    )
    return TicketView(**{**base, **fields})


def test_the_shared_rules_restrict_reports_to_supervisors_and_the_handling_department():
    rules = load_confidentiality()
    report = ticket()
    agent = Viewer("agent-7", frozenset({"agent"}))
    handling = Viewer("cw-1", frozenset({"caseworker"}), department_id="dept-a")
    elsewhere = Viewer("cw-2", frozenset({"caseworker"}), department_id="dept-b")
    named = Viewer("sup-9", frozenset({"supervisor"}), name="李 四")
    supervisor = Viewer("sup-1", frozenset({"supervisor"}))
    assert rules.restricted("report") and not rules.restricted("complaint")
    assert not rules.may_find(report, agent)
    assert rules.may_find(report, handling) and not rules.may_find(report, elsewhere)
    assert rules.may_find(report, supervisor) and not rules.may_find(report, named)
    assert not rules.may_see_identity(report, supervisor)  # read in casework only
    complaint = ticket(ticket_type="complaint")
    assert rules.may_find(complaint, agent) and rules.may_see_identity(complaint, agent)
    assert not rules.may_see_identity(complaint, Viewer("agent-9", frozenset({"agent"})))


def test_grams_most_rows_hold_are_not_looked_up_but_the_rarest_always_is():
    grams = ["7号", "号楼", "单元", "阳光"]
    frequencies = {"7号": 0.19, "号楼": 1.0, "单元": 1.0, "阳光": 0.017}
    assert selective_grams(grams, frequencies) == ["7号", "阳光"]
    assert selective_grams(["号楼", "单元"], {"号楼": 1.0, "单元": 0.9}) == ["单元"]
    assert selective_grams(["幸福"], {}) == ["幸福"]


def test_a_batch_folds_each_ticket_into_one_row_as_the_upsert_would_one_by_one():
    # An upsert may touch a row once per statement: a batch merges its changes of one ticket
    # first, by the upsert's own rules, so a batch in any order ends as the events one by one.
    events = LIFE()
    view = fold([c for e in events for c in project(e).changes])
    for order in itertools.permutations(events):
        batch = Fold()
        for e in order:
            batch.add(project(e))
        [row] = batch.tickets.values()
        assert (row["status"], row["owner"], row["unit_id"]) == (
            view["status"][0],
            view["owner"][0],
            view["unit_id"][0],
        )
        assert row["status_event"] == "e3" and row["has_breached"] is True
        assert (row["ticket_no"], row["phone_norm"], row["ticket_type"]) == (
            "2026120100000119",
            "13912345678",
            "repair",
        )
        assert len(batch.entries) == len(events)


def test_one_statement_text_whatever_the_batch():
    # The batch travels as three JSON parameters: one text, prepared once per connection.
    assert {p for cte in FOLD for p in cte.compile().params} == {"ticket_rows", "links", "entries"}
    empty = Fold()
    assert empty.parameters() is None
    empty.add(project(event("brightline.intake.ticket.recorded.v1", RECORDED, 1)))
    assert set(empty.parameters() or {}) == {"ticket_rows", "links", "entries"}


def test_an_order_created_already_offered_to_a_crew_gives_both_steps_of_its_timeline():
    """created.v2 says the creation and the offer to a crew (v1 sent two events): the
    timeline has both entries, each with its own id and time, and the ticket the later status."""
    at = lambda m: (T0 + timedelta(minutes=m)).isoformat()  # noqa: E731
    order = {
        "work_order_id": "w1",
        "ticket_id": "t1",
        "unit_id": "u1",
        "area_class": "urban",
        "created_at": at(2),
    }
    one = project(
        event(
            "brightline.dispatch.work-order.created.v2",
            {**order, "status": "assigned", "crew_id": "c1", "status_changed_at": at(3)},
            7,
        )
    )
    assert [(e.kind, e.entry_id, e.occurred_at) for e in one.entries] == [
        ("work_order.created", "e7", T0 + timedelta(minutes=2)),
        ("work_order.assigned", "e7:assigned", T0 + timedelta(minutes=3)),
    ]
    [change] = one.changes
    assert (change.status, change.stamp.at) == ("assigned", T0 + timedelta(minutes=3))
    # Not offered in its step: the creation alone, as v1 said it.
    alone = project(event("brightline.dispatch.work-order.created.v2", order, 8))
    assert [e.kind for e in alone.entries] == ["work_order.created"]
    assert [c.status for c in alone.changes] == ["dispatched"]


def test_a_callback_that_did_not_reach_the_customer_is_not_called_back():
    """An auditor reading 已回访 takes it that the customer was reached: only an answered
    callback says so; an unreachable or declining customer's ticket says which."""
    statuses = {}
    for n, outcome in enumerate(("satisfied", "unsatisfied", "unreachable", "declined")):
        p = project(
            event(
                "brightline.callback.outcome.recorded.v1",
                {"ticket_id": f"t{n}", "ticket_type": "repair", "outcome": outcome},
                n,
            )
        )
        [change] = p.changes
        statuses[outcome] = change.status
    assert statuses == {
        "satisfied": "called_back",
        "unsatisfied": "called_back",
        "unreachable": "callback_unreached",
        "declined": "callback_declined",
    }


def test_a_repair_called_off_reads_before_the_callback_it_opens():
    """The callback task is opened at the instant the order was called off (its finishing
    time): at a tie the life's order puts the cancellation first, as it happened."""
    from datetime import UTC, datetime

    from brightline.records.domain.model import timeline_order

    at = datetime(2026, 12, 7, 7, 59, 31, tzinfo=UTC)
    entries = [("callback.due", "a"), ("work_order.cancelled", "b")]
    ordered = sorted(entries, key=lambda e: timeline_order(at, e[0], e[1]))
    assert [kind for kind, _ in ordered] == ["work_order.cancelled", "callback.due"]


def test_a_reply_sent_back_or_a_case_returned_reads_as_such_not_as_another_move():
    def moved(status: str, previous: str, n: int, note: str | None = None) -> str:
        data = {
            "case_id": "c1",
            "ticket_id": "t1",
            "case_type": "complaint",
            "status": status,
            "previous_status": previous,
            "changed_at": (T0 + timedelta(minutes=n)).isoformat(),
            "actor": "agent-7",
            "note": note,
        }
        [entry] = project(event("brightline.casework.case.status-changed.v1", data, n)).entries
        assert entry.data["note"] == note
        return entry.kind

    assert moved("investigating", "accepted", 1, "核查抄表记录") == "case.investigating"
    assert moved("replied", "investigating", 2, "已处理") == "case.replied"
    assert moved("investigating", "replied", 3, "未说明是否退费") == "case.sent_back"
    # 回退: the department hands it back to the centre (opened again), not a new case.
    assert moved("opened", "investigating", 4, "不属本部门承办") == "case.returned"


def test_a_case_returned_to_the_centre_is_no_longer_the_departments():
    """The department that returned a report no longer finds it nor reads its reporter's identity
    in records: the ticket's department is NO_DEPARTMENT (which matches no caseworker's), not the
    department the event names as the one that returned it."""
    data = {
        "case_id": "c1",
        "ticket_id": "t1",
        "case_type": "report",
        "status": "opened",
        "previous_status": "accepted",
        "changed_at": T0.isoformat(),
        "actor": "cw-1",
        "department_id": "dept-audit",
        "note": "不属本部门承办",
    }
    [change] = project(event("brightline.casework.case.status-changed.v1", data, 1)).changes
    assert (change.status, change.department_id) == ("opened", NO_DEPARTMENT)
    assert NO_DEPARTMENT is not None  # a change's None means "no news", not "none holds it"
    transferred = {**data, "status": "transferred", "previous_status": "opened"}
    [change] = project(event("brightline.casework.case.status-changed.v1", transferred, 2)).changes
    assert change.department_id == "dept-audit"


def test_a_return_sent_back_reads_as_such_and_a_passed_one_at_its_review():
    """回单审核: the dispatcher sending a crew's return back reads as 回单退回 with the reason, not
    as the crew arriving again; the return's passing stands at the review's time (a return from
    before reviews, at the crew's)."""
    back = {
        "work_order_id": "w1",
        "ticket_id": "t1",
        "unit_id": "u1",
        "status": "on_site",
        "previous_status": "returned",
        "changed_at": (T0 + timedelta(minutes=5)).isoformat(),
        "actor": "sup-1",
        "reason": "原因未写明",
    }
    [entry] = project(event("brightline.dispatch.work-order.status-changed.v1", back, 1)).entries
    assert (entry.kind, entry.data["reason"]) == ("work_order.sent_back", "原因未写明")
    arrived = {**back, "previous_status": "en_route", "actor": "crew-1-m1", "reason": None}
    [entry] = project(event("brightline.dispatch.work-order.status-changed.v1", arrived, 2)).entries
    assert entry.kind == "work_order.on_site"

    passed = {
        "work_order_id": "w1",
        "ticket_id": "t1",
        "unit_id": "u1",
        "returned_at": (T0 + timedelta(minutes=20)).isoformat(),
        "resolution": "repaired",
        "cause": "表箱进线熔丝熔断",
        "reviewed_at": (T0 + timedelta(minutes=31)).isoformat(),
        "reviewed_by": "sup-1",
    }
    [entry] = project(event("brightline.dispatch.work-order.returned.v1", passed, 3)).entries
    assert (entry.kind, entry.occurred_at) == ("work_order.resolution", T0 + timedelta(minutes=31))
    before_reviews = {k: v for k, v in passed.items() if not k.startswith("reviewed")}
    [entry] = project(
        event("brightline.dispatch.work-order.returned.v1", before_reviews, 4)
    ).entries
    assert entry.occurred_at == T0 + timedelta(minutes=20)
