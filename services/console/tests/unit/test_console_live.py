from brightline.console.live import public_data, short_type, sse


def test_broadcast_events_carry_no_personal_data():
    data = public_data(
        {
            "ticket_no": "T1",
            "phone": "13912345678",
            "caller_name": "李四",
            "address": "x",
            "description": "smoke",
            "ticket_type": "repair",
        }
    )
    assert data == {
        "ticket_no": "T1",
        "phone": "***",
        "caller_name": "***",
        "address": "***",
        "description": "***",
        "ticket_type": "repair",
    }


def test_event_names_and_sse_frames():
    assert short_type("brightline.intake.ticket.recorded.v1") == "ticket.recorded"
    assert (
        short_type("brightline.dispatch.work-order.status-changed.v1")
        == "work-order.status-changed"
    )
    frame = sse({"kind": "event", "data": {"x": "中"}})
    assert frame.startswith("event: event\ndata: {") and frame.endswith("\n\n") and "中" in frame
