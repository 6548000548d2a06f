from datetime import UTC, datetime

from cryptography.fernet import Fernet

from brightline.console.live import public_data, short_type, sse
from brightline.console.state_feed import opened
from brightline.contracts import new_event
from brightline.contracts.events.intake import CallRingingV2, TicketRecordedV2
from brightline.contracts.sealed import PersonalDataSeal


def test_broadcast_events_carry_no_personal_data():
    data = public_data(
        {
            "ticket_no": "T1",
            "phone": "13912345678",
            "caller_name": "李四",
            "address": "x",
            "latitude": 30.27,
            "longitude": 120.13,
            "description": "smoke",
            "ticket_type": "repair",
        }
    )
    assert data == {
        "ticket_no": "T1",
        "phone": "***",
        "caller_name": "***",
        "address": "***",
        "latitude": "***",
        "longitude": "***",
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


def test_the_console_opens_personal_data_only_where_the_floor_reads_it():
    # A ringing call's number is the floor's (repeat callers); a ticket's caller is never
    # shown by the console, so it stays sealed: no decryption, no plain text held.
    seal = PersonalDataSeal(Fernet.generate_key().decode())
    ringing = new_event(
        seal.sealed(
            CallRingingV2,
            call_id="c1",
            queue="95598",
            caller_number="13912345678",
            called_number="95598",
            rang_at=datetime.now(UTC),
        ),
        source="/brightline/intake",
    )
    recorded = new_event(
        seal.sealed(
            TicketRecordedV2,
            ticket_id="t1",
            ticket_no="T1",
            ticket_type="repair",
            recorded_at=datetime.now(UTC),
            first_ask_owner="agent-1",
            description="停电",
            phone="13912345678",
            caller_name="李四",
        ),
        source="/brightline/intake",
    )
    assert opened(seal, ringing)["caller_number"] == "13912345678"
    kept = opened(seal, recorded)
    assert kept == recorded.data
    assert "13912345678" not in str(kept) and "李四" not in str(kept)
    assert public_data(kept)["phone"] == "***"
