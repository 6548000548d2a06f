"""Personal data in events is sealed for the services entitled to it: what travels is a token
(AES-256-GCM; Fernet before 2026-12-05, still opened), an entitled service opens it, a service
with another key cannot, keys rotate."""

import base64
import re
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError

from brightline.contracts import EVENT_SPECS, new_event, spec_for_type, to_record
from brightline.contracts.events.intake import (
    CallRingingV2,
    TicketCompletedV2,
    TicketRecordedV1,
    TicketRecordedV2,
)
from brightline.contracts.sealed import (
    DEV_PERSONAL_DATA_KEY,
    SEALED_TOKEN,
    CannotOpen,
    Keyring,
    PersonalDataSeal,
    fernet_key_problems,
    sealed_fields,
)

PHONE, NAME, ADDRESS = "13300133001", "孙八", "杭州市西湖区文三路90号"
AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def recorded(seal: PersonalDataSeal) -> TicketRecordedV2:
    return seal.sealed(
        TicketRecordedV2,
        ticket_id="t-1",
        ticket_no="2026050100001",
        ticket_type="repair",
        recorded_at=AT,
        first_ask_owner="agent-1",
        description="家里停电",
        caller_name=NAME,
        phone=PHONE,
        address=ADDRESS,
        reported_party=None,
    )


def test_a_sealed_event_carries_no_personal_data_in_clear_and_an_entitled_service_opens_it():
    seal = PersonalDataSeal(Fernet.generate_key().decode())
    payload = recorded(seal)
    record = to_record(new_event(payload, source="/brightline/intake"))
    wire = record.value + b"".join(v for _, v in record.headers) + record.key
    for clear in (PHONE, NAME, ADDRESS):
        assert clear.encode() not in wire
    opened = seal.opened(payload)
    assert (opened.phone, opened.caller_name, opened.address) == (PHONE, NAME, ADDRESS)
    assert opened.reported_party is None and opened.description == "家里停电"


def test_a_v2_payload_refuses_personal_data_in_clear():
    with pytest.raises(ValidationError, match="phone"):
        TicketCompletedV2(
            ticket_id="t-1",
            ticket_type="consultation",
            completed_at=AT,
            completed_by="agent-1",
            phone=PHONE,
        )


def test_a_service_without_the_key_cannot_open_and_the_event_is_dead_lettered():
    payload = recorded(PersonalDataSeal(Fernet.generate_key().decode()))
    other = PersonalDataSeal(Fernet.generate_key().decode())
    with pytest.raises(CannotOpen):  # an InvalidEvent: the consumer dead-letters it
        other.opened(payload)


def test_keys_rotate_newest_first():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = recorded(PersonalDataSeal(old))
    during = PersonalDataSeal(f"{new},{old}")
    assert during.opened(before).phone == PHONE  # still sealed with the old key
    assert PersonalDataSeal(new).opened(recorded(during)).phone == PHONE  # sealed with the new


def test_earlier_versions_read_as_they_are():
    v1 = TicketRecordedV1(
        ticket_id="t-1",
        ticket_no="n",
        ticket_type="repair",
        recorded_at=AT,
        first_ask_owner="agent-1",
        description="d",
        phone=PHONE,
    )
    assert PersonalDataSeal(DEV_PERSONAL_DATA_KEY).opened(v1) == v1


def test_every_phone_name_or_address_field_of_the_current_contracts_is_sealed():
    personal = {"phone", "caller_name", "address", "caller_number", "reported_party"}
    superseded = {"TicketRecordedV1", "TicketCompletedV1", "CallRingingV1"}
    for type_name in EVENT_SPECS:
        payload = spec_for_type(type_name).payload
        if payload.__name__ in superseded:
            continue
        exposed = personal & set(payload.model_fields) - set(sealed_fields(payload))
        assert not exposed, f"{type_name} carries {exposed} in clear"
    assert set(sealed_fields(CallRingingV2)) == {"caller_number"}


def test_development_and_malformed_keys_are_refused_outside_development():
    assert fernet_key_problems("K", DEV_PERSONAL_DATA_KEY, DEV_PERSONAL_DATA_KEY)
    assert fernet_key_problems("K", "", DEV_PERSONAL_DATA_KEY)
    assert fernet_key_problems("K", "not-a-key", DEV_PERSONAL_DATA_KEY)
    assert not fernet_key_problems("K", Fernet.generate_key().decode(), DEV_PERSONAL_DATA_KEY)


def test_an_entitled_consumer_reads_the_event_opened_at_its_edge():
    seal = PersonalDataSeal(Fernet.generate_key().decode())
    event = new_event(recorded(seal), source="/brightline/intake")
    opened = seal.opening(event)
    # data and payload() in clear for the translator; the contract was checked on the tokens.
    assert (opened.data["phone"], opened.data["caller_name"]) == (PHONE, NAME)
    assert (opened.payload().phone, opened.payload().address) == (PHONE, ADDRESS)
    assert event.data["phone"] != PHONE  # what travelled stays sealed
    # An event with nothing sealed, or of a type this process does not know, passes as it came.
    plain = new_event(TicketRecordedV1(**{**recorded_v1_fields(), "phone": PHONE}), source="/x")
    assert seal.opening(plain) is plain
    # Another service's key opens nothing: the event is invalid here (dead letter).
    with pytest.raises(CannotOpen):
        PersonalDataSeal(Fernet.generate_key().decode()).opening(event)


def test_an_opened_event_decrypts_each_sealed_field_once(monkeypatch):
    # A Fernet decryption (HMAC + AES) per field is a consumer's cost per event: the edge opens,
    # payload() reuses what it opened (the contract still checked on the tokens).
    seal = PersonalDataSeal(Fernet.generate_key().decode())
    opened = seal.opening(new_event(recorded(seal), source="/brightline/intake"))
    decrypted = []
    monkeypatch.setattr(
        PersonalDataSeal, "open", lambda self, token: decrypted.append(token) or "again"
    )
    payload = opened.payload()
    assert (payload.phone, payload.caller_name, payload.address) == (PHONE, NAME, ADDRESS)
    assert decrypted == []


def recorded_v1_fields() -> dict:
    return {
        "ticket_id": "t-1",
        "ticket_no": "2026050100001",
        "ticket_type": "repair",
        "recorded_at": AT,
        "first_ask_owner": "agent-1",
        "description": "家里停电",
    }


def test_a_token_is_aes_gcm_with_a_fresh_nonce_and_a_fernet_one_still_opens():
    key = Fernet.generate_key().decode()
    seal = PersonalDataSeal(key)
    payload = recorded(seal)
    token = payload.phone
    assert token is not None and re.fullmatch(SEALED_TOKEN, token)
    raw = base64.urlsafe_b64decode(token)
    # version byte, 96-bit nonce, the 11 digits, a 128-bit tag: no timestamp, no padding block
    assert raw[0] == 0x81 and len(raw) == 1 + 12 + len(PHONE) + 16
    assert seal.seal(PHONE) != seal.seal(PHONE)  # a nonce of its own each time
    assert Fernet(key.encode()).decrypt(recorded(PersonalDataSeal(key, seal_as="fernet")).phone)
    # Sealed as the earlier release did (Fernet), on the topics and in casework's vault: opened.
    before = recorded(PersonalDataSeal(key, seal_as="fernet"))
    assert before.phone is not None and before.phone.startswith("gAAAAA")
    assert seal.opened(before).phone == PHONE
    # While a service of that release still runs, sealing as it does keeps it reading.
    rolling = PersonalDataSeal(key, seal_as="fernet")
    assert rolling.opened(payload).phone == PHONE
    assert (rolling.seal(PHONE) or "").startswith("gAAAAA")


def test_a_token_altered_or_made_up_is_refused():
    seal = PersonalDataSeal(Fernet.generate_key().decode())
    token = seal.seal(ADDRESS) or ""
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[20] ^= 1  # a bit of the ciphertext
    altered = base64.urlsafe_b64encode(bytes(raw)).decode()
    for bad in (altered, token[:-8] + "AAAAAAA=", "gQ" + "A" * 40, "gQ!!", "gQ", "gQ电话", 7):
        with pytest.raises(InvalidToken):
            seal.open(bad)
    event = new_event(recorded(seal), source="/brightline/intake")
    event.data["address"] = altered
    with pytest.raises(CannotOpen):
        seal.opening(event)


def test_keys_rotate_across_the_two_kinds_of_token():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_by_old = [Keyring(old).seal(NAME), Keyring(old, seal_as="fernet").seal(NAME)]
    both = Keyring(f"{new},{old}")
    for token in sealed_by_old:
        assert both.open(token) == NAME
        rotated = both.rotate(token)
        assert Keyring(new).open(rotated) == NAME
        with pytest.raises(InvalidToken):
            Keyring(old).open(rotated)
