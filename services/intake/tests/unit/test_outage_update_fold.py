"""A batch's outage updates folded per incident (domain.outage_updates): each event keeps its
own row for the audit trail, the folded row is what the updates' upserts leave one after the
other, and a fold written once (before a declaration of the batch) is not written again at
commit."""

from datetime import UTC, datetime, timedelta

from brightline.intake.domain.outage_updates import OutageUpdateFold

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_updates_of_an_incident_fold_into_one_row_and_keep_their_own():
    fold = OutageUpdateFold()
    first = fold.updated("inc-2", ["t-b", "t-b"], None, "雷击", "suspected")
    fold.updated("inc-1", ["t-x"], None, None, None)
    second = fold.updated("inc-2", ["T-c", "t-a"], T0, "", None)
    assert first["ticket_ids"] == ["t-b", "t-b"] and second["ticket_ids"] == ["T-c", "t-a"]
    rows = fold.take()
    assert [r["incident_id"] for r in rows] == ["inc-1", "inc-2"]  # in key order
    assert rows[1] == {
        "incident_id": "inc-2",
        "ticket_ids": ["T-c", "t-a", "t-b"],  # a union, sorted by code point
        "expected_restore_at": T0,
        "cause": "雷击",  # "" and None name none
        "status": "suspected",
    }
    # A lone update is inserted as it says.
    assert rows[0]["ticket_ids"] == ["t-x"] and rows[0]["status"] is None


def test_a_fold_taken_is_empty_until_the_next_update():
    fold = OutageUpdateFold()
    fold.updated("inc-1", ["t-1"], None, None, "confirmed")
    assert len(fold.take()) == 1
    assert fold.take() == []
    fold.updated("inc-1", ["t-2"], T0 + timedelta(hours=1), None, None)
    assert fold.take()[0]["ticket_ids"] == ["t-2"]
