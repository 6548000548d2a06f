"""An incident drawn as its grid topology: feeder → transformer → each call it gathered, once."""

from brightline.console.domain.topology import incident_graph


def test_feeder_transformer_and_every_call_once():
    incident = {
        "id": "inc-1",
        "feeder_id": "F10",
        "transformer_id": "T7",
        "linked_ticket_ids": ["t1", "t2"],
    }
    orders = [
        {"incident_id": "inc-1", "ticket_id": "t2"},
        {"incident_id": "inc-1", "ticket_id": "t3"},
        {"incident_id": "other", "ticket_id": "t9"},
    ]
    graph = incident_graph(incident, orders)
    assert [n["id"] for n in graph["nodes"]] == [
        "feeder:F10",
        "transformer:T7",
        "call:t1",
        "call:t2",
        "call:t3",
    ]
    assert {"source": "feeder:F10", "target": "transformer:T7"} in graph["links"]
    assert [link["target"] for link in graph["links"] if link["source"] == "transformer:T7"] == [
        "call:t1",
        "call:t2",
        "call:t3",
    ]


def test_calls_hang_from_the_feeder_when_no_transformer_is_known():
    graph = incident_graph({"id": "i", "feeder_id": "F1", "linked_ticket_ids": ["t1"]}, [])
    assert graph["links"] == [{"source": "feeder:F1", "target": "call:t1"}]
