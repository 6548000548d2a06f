"""The pure parts of dispatch: the order state machine, crew choice, outage matching, PIN hashing."""

from datetime import UTC, datetime, timedelta

import pytest

from brightline.dispatch.domain import events
from brightline.dispatch.domain.model import (
    ClusterKey,
    CrewState,
    IllegalTransition,
    OpenIncident,
    Shift,
    StepTimeRejected,
    WorkOrder,
    check_step_time,
    choose_crew,
    haversine_m,
    is_crew_step,
    matching_incident,
    may_join_incident,
    route,
    several_meters_dark,
    with_load,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def order() -> WorkOrder:
    return WorkOrder.create(
        id="wo-1",
        ticket_id="t-1",
        unit_id="u",
        area_class="urban",
        created_at=NOW,
        latitude=31.0,
        longitude=121.0,
    )


def statuses(o: WorkOrder) -> list[str]:
    return [e.status for e in o.events if isinstance(e, events.StatusChanged)]


def test_the_full_path_records_every_step():
    o = order()
    o.assign("c1", NOW, NOW + timedelta(minutes=5), actor="dispatch", reason="new order")
    o.accept(NOW, "m1")
    o.set_off(NOW, "m1")
    o.arrive(NOW, "m1", 31.0, 121.0)
    o.resolve(NOW, "m1", cause="fuse", notes=None, customer_installation=False)
    o.return_(NOW, "m1")
    assert statuses(o) == ["assigned", "accepted", "en_route", "on_site", "resolved", "returned"]
    assert o.resolution == "repaired"
    # 回单 waits for review (审核): nothing closes before the dispatcher passes it.
    assert o.awaiting_review
    assert not any(isinstance(e, events.Returned) for e in o.events)


def returned_order() -> WorkOrder:
    o = order()
    o.assign("c1", NOW, NOW + timedelta(minutes=5), actor="dispatch", reason="new order")
    o.accept(NOW, "m1")
    o.set_off(NOW, "m1")
    o.arrive(NOW, "m1", 31.0, 121.0)
    o.resolve(NOW, "m1", cause="fuse", notes=None, customer_installation=False)
    o.return_(NOW + timedelta(minutes=1), "m1")
    o.events.clear()
    return o


def test_a_return_passes_review_once_and_only_then_is_returned():
    o = returned_order()
    o.approve_return(NOW + timedelta(minutes=9), "sup-1")
    [passed] = o.events
    assert isinstance(passed, events.Returned)
    # The event keeps the crew's time; the review's is on the order.
    assert passed.at == NOW + timedelta(minutes=1) and passed.resolution == "repaired"
    assert (o.reviewed_at, o.reviewed_by) == (NOW + timedelta(minutes=9), "sup-1")
    assert not o.awaiting_review and o.status == "returned"
    with pytest.raises(IllegalTransition, match="reviewed already"):
        o.approve_return(NOW + timedelta(minutes=10), "sup-2")
    with pytest.raises(IllegalTransition, match="reviewed already"):
        o.send_back_return(NOW + timedelta(minutes=10), "sup-2", "late second thoughts")
    assert len(o.events) == 1 and o.reviewed_by == "sup-1"


def test_a_return_sent_back_is_on_site_again_and_reviewed_afresh():
    o = returned_order()
    o.send_back_return(NOW + timedelta(minutes=5), "sup-1", "原因未写明")
    assert statuses(o) == ["on_site"] and o.events[0].reason == "原因未写明"
    assert not any(isinstance(e, events.Returned) for e in o.events)
    assert o.status == "on_site" and o.returned_at is None and not o.awaiting_review
    assert o.sent_back_reason == "原因未写明"
    o.resolve(
        NOW + timedelta(minutes=20),
        "m1",
        cause="表箱进线熔丝熔断",
        notes=None,
        customer_installation=False,
    )
    o.return_(NOW + timedelta(minutes=21), "m1")
    assert o.awaiting_review
    o.approve_return(NOW + timedelta(minutes=22), "sup-1")
    assert o.events[-1] == events.Returned(o, NOW + timedelta(minutes=21), "repaired")


def test_only_a_returned_order_is_reviewed():
    o = order()
    with pytest.raises(IllegalTransition, match="only a returned order"):
        o.approve_return(NOW, "sup-1")
    with pytest.raises(IllegalTransition, match="only a returned order"):
        o.send_back_return(NOW, "sup-1", "why")
    assert o.events == [events.WorkOrderCreated(o)]


def test_an_illegal_step_names_the_allowed_next_states():
    o = order()
    o.assign("c1", NOW, NOW, actor="dispatch", reason="r")
    with pytest.raises(IllegalTransition) as error:
        o.arrive(NOW, "m1", 0, 0)
    assert error.value.allowed == ["accepted", "cancelled"]
    assert o.status == "assigned"


def test_customer_installation_fault_is_a_paid_service_referral():
    o = order()
    o.assign("c1", NOW, NOW, actor="d", reason="r")
    o.accept(NOW, "m")
    o.set_off(NOW, "m")
    o.arrive(NOW, "m", 0, 0)
    o.resolve(NOW, "m", cause="户内开关", notes=None, customer_installation=True)
    assert o.resolution == "paid_service_referral"


def test_restore_finishes_an_order_from_any_open_state_once():
    o = order()
    o.restore_with_outage(NOW, "sup", "transformer")
    assert o.status == "returned" and o.resolution == "restored_with_outage"
    # Finished by the restoration, not returned by a crew: nothing waits for review.
    assert not o.awaiting_review and o.reviewed_by == "sup"
    assert isinstance(o.events[-1], events.Returned)
    count = len(o.events)
    o.restore_with_outage(NOW, "sup", "transformer")
    assert len(o.events) == count


def crew(cid, lat=None, lon=None, load=0, on_duty=True, unit="u", shifts=()):
    return CrewState(cid, unit, on_duty, lat, lon, load, tuple(shifts))


def test_nearest_available_crew_of_the_unit_wins_then_least_loaded():
    crews = [
        crew("far", 31.5, 121.0),
        crew("near", 31.01, 121.0, load=3),
        crew("off", 31.0, 121.0, on_duty=False),
        crew("other-unit", 31.0, 121.0, unit="v"),
    ]
    assert choose_crew(crews, unit_id="u", at=NOW, latitude=31.0, longitude=121.0).crew_id == "near"
    same_place = [crew("busy", 31.01, 121.0, load=2), crew("idle", 31.01, 121.0, load=0)]
    assert (
        choose_crew(same_place, unit_id="u", at=NOW, latitude=31.0, longitude=121.0).crew_id
        == "idle"
    )
    unknown = [crew("busy", load=2), crew("idle", load=0)]
    assert (
        choose_crew(unknown, unit_id="u", at=NOW, latitude=None, longitude=None).crew_id == "idle"
    )
    assert (
        choose_crew(
            crews,
            unit_id="u",
            at=NOW,
            latitude=31.0,
            longitude=121.0,
            exclude=frozenset({"near", "far"}),
        )
        is None
    )


def test_a_crews_load_counts_the_orders_not_yet_written_that_it_works_on():
    """A consumer batch's new orders are written at its commit: the crews read before count
    them from the batch, only those a crew works on (an order waiting for a crew counts for
    none), as the read would have once they were written."""
    crews = [crew("a", load=1), crew("b")]
    unassigned = order()
    assigned = [order(), order(), order()]
    for o, c in zip(assigned, ("a", "b", "a"), strict=True):
        o.assign(c, NOW, NOW + timedelta(minutes=5), actor="dispatch", reason="new order")
    loads = [(c.crew_id, c.open_orders) for c in with_load(crews, [*assigned, unassigned])]
    assert loads == [("a", 3), ("b", 1)]
    assert with_load(crews, [unassigned]) is crews


def test_a_rostered_crew_is_only_available_inside_its_shift():
    shift = Shift(NOW - timedelta(hours=1), NOW + timedelta(hours=7))
    assert crew("c", shifts=[shift]).available(NOW)
    assert not crew("c", shifts=[shift]).available(NOW + timedelta(hours=8))
    assert crew("c").available(NOW)


def test_haversine_is_about_111_km_per_degree_of_latitude():
    assert haversine_m(31.0, 121.0, 32.0, 121.0) == pytest.approx(111_195, rel=1e-3)


def test_only_shared_equipment_forms_or_joins_an_incident():
    assert may_join_incident("building", None) and may_join_incident("area", None)
    # A home joins only when topology places its meter under equipment.
    assert may_join_incident("own_home", "T-1")
    assert not may_join_incident("own_home", None)
    assert not may_join_incident(None, None)


def test_one_household_never_makes_an_outage_several_meters_do():
    assert not several_meters_dark({"M-1"}, 3)
    assert not several_meters_dark({"M-1", "M-2"}, 3)
    assert several_meters_dark({"M-1", "M-2", "M-3"}, 3)


def test_an_unmapped_area_is_not_routed_to_a_made_up_unit():
    assert route("nowhere", {}) is None
    assert route(None, {}) is None


STEP = {
    "now": NOW,
    "created_at": NOW - timedelta(hours=1),
    "last_server_step_at": NOW - timedelta(minutes=50),
    "last_crew_step_at": NOW - timedelta(minutes=30),
    "offline_window_seconds": 24 * 3600,
    "skew_seconds": 300,
}


def test_step_times_must_be_plausible():
    check_step_time(NOW - timedelta(minutes=10), **STEP)  # fine
    check_step_time(NOW + timedelta(minutes=4), **STEP)  # within the clock skew
    for bad in (
        NOW - timedelta(days=3 * 365),  # years in the past
        NOW - timedelta(days=2),  # older than the offline window
        NOW + timedelta(hours=1),  # in the future
        NOW - timedelta(minutes=31),  # before the crew's previous step
    ):
        with pytest.raises(StepTimeRejected) as error:
            check_step_time(bad, **STEP)
        assert error.value.field == "device_time"
    with pytest.raises(StepTimeRejected):  # before the order existed
        check_step_time(NOW - timedelta(hours=2), **{**STEP, "last_crew_step_at": None})


def test_a_phone_behind_our_clock_records_its_steps_no_earlier_than_the_offer():
    offered = NOW - timedelta(minutes=50)
    first = {**STEP, "last_crew_step_at": None}
    assert check_step_time(NOW - timedelta(minutes=10), **first) == NOW - timedelta(minutes=10)
    # Accepted "4 minutes before the offer" by a phone 5 minutes behind: at the offer.
    accepted = check_step_time(offered - timedelta(minutes=4), **first)
    assert accepted == offered
    # Its next step, a second later on the same slow clock, follows it at the offer too.
    assert (
        check_step_time(
            offered - timedelta(minutes=4) + timedelta(seconds=1),
            **{**STEP, "last_crew_step_at": accepted},
        )
        == offered
    )


def incident(iid, transformer=None, feeder=None, lat=None, lon=None, last=NOW):
    return OpenIncident(iid, transformer, feeder, lat, lon, None, last)


def test_incident_matching_by_transformer_then_feeder_then_place_and_time():
    incidents = [
        incident("by-t", transformer="T1", feeder="F1"),
        incident("by-f", feeder="F2"),
        incident("geo", lat=31.0, lon=121.0),
    ]
    kw = {"at": NOW, "radius_m": 500, "window_seconds": 3600}
    assert matching_incident(ClusterKey("T1", "F1"), incidents, **kw).id == "by-t"
    assert matching_incident(ClusterKey("T9", "F2"), incidents, **kw).id == "by-f"
    assert matching_incident(ClusterKey("T9", "F9"), incidents, **kw) is None
    assert (
        matching_incident(ClusterKey(latitude=31.003, longitude=121.0), incidents, **kw).id == "geo"
    )
    assert (
        matching_incident(ClusterKey(latitude=31.01, longitude=121.0), incidents, **kw) is None
    )  # ~1.1 km
    stale = [incident("old", lat=31.0, lon=121.0, last=NOW - timedelta(hours=2))]
    assert matching_incident(ClusterKey(latitude=31.0, longitude=121.0), stale, **kw) is None


def test_an_order_not_needed_is_cancelled_with_its_reason_until_it_is_resolved():
    o = order()
    o.assign("c1", NOW, NOW + timedelta(minutes=5), actor="dispatch", reason="new order")
    o.accept(NOW, "m1")
    o.set_off(NOW, "m1")
    o.cancel(NOW, "m1", "客户已自行恢复供电")
    assert statuses(o)[-1] == "cancelled" and o.cancel_reason == "客户已自行恢复供电"
    assert [e.reason for e in o.events if isinstance(e, events.StatusChanged)][-1] == (
        "客户已自行恢复供电"
    )
    done = order()
    done.assign("c1", NOW, NOW, actor="dispatch", reason="r")
    for step in (done.accept, done.set_off):
        step(NOW, "m1")
    done.arrive(NOW, "m1", 31.0, 121.0)
    done.resolve(NOW, "m1", cause="fuse", notes=None, customer_installation=False)
    with pytest.raises(IllegalTransition):
        done.cancel(NOW, "m1", "too late")


def test_a_crews_request_to_cancel_changes_nothing_until_the_dispatcher_answers():
    o = order()
    o.assign("c1", NOW, NOW + timedelta(minutes=5), actor="dispatch", reason="new order")
    o.accept(NOW, "m1")
    o.events.clear()
    o.request_cancel(NOW, "m1", "客户说已来电")
    assert o.events == [] and o.status == "accepted"
    assert o.cancel_requested and o.cancel_reason == "客户说已来电"
    o.refuse_cancel(NOW, "仍无电，请到场")
    assert not o.cancel_requested and o.cancel_reason is None
    # Its own field: not a return sent back (the crew's phone and the return review read that).
    assert o.cancel_refused_reason == "仍无电，请到场" and o.sent_back_reason is None
    with pytest.raises(IllegalTransition):
        o.refuse_cancel(NOW, "again")
    # Going on with the work withdraws a request; a cancellation grants it.
    o.request_cancel(NOW, "m1", "客户不在家")
    assert o.cancel_refused_reason is None  # asked again: the old refusal is no answer to it
    o.set_off(NOW, "m1")
    assert not o.cancel_requested and o.cancel_reason is None
    o.request_cancel(NOW, "m1", "客户已自行恢复供电")
    o.cancel(NOW, "super-9001", "客户已自行恢复供电")
    assert o.status == "cancelled" and o.cancel_reason == "客户已自行恢复供电"
    assert not o.cancel_requested and o.cancel_requested_at is None
    with pytest.raises(IllegalTransition):
        o.request_cancel(NOW, "m1", "too late")


def test_a_request_to_cancel_waits_through_a_new_offer_and_is_not_asked_twice():
    o = order()
    o.assign("c1", NOW, NOW + timedelta(minutes=5), actor="dispatch", reason="new order")
    o.request_cancel(NOW, "c1-m1", "客户说已来电")
    with pytest.raises(IllegalTransition, match="waits since"):
        o.request_cancel(NOW + timedelta(seconds=1), "c1-m1", "客户又说没电")
    assert o.cancel_reason == "客户说已来电" and o.cancel_requested_at == NOW
    # The offer times out and goes to another crew: the dispatcher still has to answer.
    o.assign("c2", NOW, NOW + timedelta(minutes=10), actor="dispatch", reason="accept timeout")
    assert o.crew_id == "c2" and o.cancel_requested and o.cancel_reason == "客户说已来电"
    # The new crew going to the fault after all withdraws it.
    o.accept(NOW, "c2-m1")
    assert not o.cancel_requested and o.cancel_reason is None


def test_a_history_note_is_not_a_crew_step():
    assert is_crew_step("en_route", "accepted")
    assert not is_crew_step("en_route", "en_route")  # a request to cancel, a refusal
    assert not is_crew_step("returned", "returned")  # a return passed review
    assert not is_crew_step("on_site", "returned")  # a return sent back


def test_a_follower_that_comes_to_stand_for_itself_says_so_once():
    follower = order()
    follower.link_to("inc-1", lead=False)
    follower.events.clear()
    follower.lead_incident(NOW)
    follower.lead_incident(NOW)  # already the lead: nothing more
    promoted = [e for e in follower.events if isinstance(e, events.Promoted)]
    assert [(p.reason, p.incident_id) for p in promoted] == [("leads_incident", "inc-1")]

    released = order()
    released.link_to("inc-2", lead=False)
    released.events.clear()
    released.release_from_incident(NOW)
    assert released.incident_id is None and released.is_lead
    [p] = [e for e in released.events if isinstance(e, events.Promoted)]
    assert (p.reason, p.incident_id) == ("incident_cancelled", "inc-2")
    lead = order()
    lead.link_to("inc-3", lead=True)
    lead.events.clear()
    lead.release_from_incident(NOW)  # the lead had its clock all along
    assert not [e for e in lead.events if isinstance(e, events.Promoted)]


def test_the_dispatcher_may_do_what_the_orders_state_still_allows():
    o = order()
    assert o.dispatcher_acts == ("reassign", "cancel")
    o.assign("c1", NOW, NOW, actor="dispatch", reason="r")
    assert o.dispatcher_acts == ("reassign", "cancel")
    o.accept(NOW, "m1")
    assert o.dispatcher_acts == ("cancel",)
    o.set_off(NOW, "m1")
    o.arrive(NOW, "m1", 31.0, 121.0)
    assert o.dispatcher_acts == ("cancel",)
    o.resolve(NOW, "m1", cause="fuse", notes=None, customer_installation=False)
    assert o.dispatcher_acts == ()
    o.return_(NOW, "m1")
    assert o.dispatcher_acts == ()


def test_an_unrouted_order_is_routed_before_any_crew_is_picked():
    o = order()
    o.needs_routing = True
    assert o.dispatcher_acts == ("route", "cancel")
    with pytest.raises(IllegalTransition, match="route the order to a unit first"):
        o.assign("c1", NOW, NOW, actor="super-9001", reason="就近")
    assert o.status == "created" and o.crew_id is None
    o.cancel(NOW, "super-9001", "重复报修")
    assert o.dispatcher_acts == ()


def test_an_incidents_follower_goes_with_its_leads_crew():
    o = order()
    o.link_to("incident-1", lead=False)
    assert o.dispatcher_acts == ("cancel",)
    with pytest.raises(IllegalTransition, match="lead crew"):
        o.assign("c1", NOW, NOW, actor="super-9001", reason="就近")
    o.release_from_incident(NOW)
    assert o.dispatcher_acts == ("reassign", "cancel")
