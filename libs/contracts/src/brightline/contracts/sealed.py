"""Personal data on Kafka travels sealed: a phone number, a name or an address in an event is a
token that only the services entitled to it can open (docs/personal-data.md says which). Keys
come from the environment through each entitled service's settings
(BRIGHTLINE_PERSONAL_DATA_KEY); the other services never hold them.

A token is sealed with AES-256-GCM (v2: the version byte 0x81, a random 96-bit nonce, the
ciphertext and its tag, url-safe base64), its key derived from the configured Fernet key by
HKDF-SHA256: one call into OpenSSL each way, ~1.3 µs a field against Fernet's ~8.5 (its HMAC,
padding and timestamp done around AES-128-CBC in Python), and every entitled consumer opens
every ticket's fields. Fernet tokens, sealed before 2026-12-05, still open (the topics'
retention, casework's vault until rotated); `seal_as="fernet"` (BRIGHTLINE_SEAL_FORMAT=fernet)
seals them still, while a service of an earlier release, which opens Fernet alone, is running.

Keys rotate the MultiFernet way: a comma-separated list, newest first; the first key seals,
every key opens. Add the new key in front everywhere, and drop the old one once nothing sealed
with it is still read (the topics' retention)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import os
from typing import Annotated, Any, Literal, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import Field, StringConstraints

from brightline.contracts.envelope import Event, InvalidEvent, validated_data
from brightline.contracts.registry import EventPayload, UnknownEventType, spec_for_type

P = TypeVar("P", bound=EventPayload)

SEALED_MARK = "x-personal-data"
# A sealed token, url-safe base64: v2's version byte 0x81 then its random nonce (so it begins g
# and one of Q-Z, a-f), or a Fernet token's 0x80 then its timestamp (so it begins gAAAAA).
SEALED_TOKEN = r"^g(AAAAA|[Q-Za-f])[A-Za-z0-9_\-]+=*$"
V2 = b"\x81"  # also the associated data its tag covers
NONCE_BYTES = 12
SealFormat = Literal["aes-gcm", "fernet"]

# A field of personal data in an event: a sealed token, never the value in clear.
Sealed = Annotated[
    Annotated[str, StringConstraints(pattern=SEALED_TOKEN)] | None,
    Field(
        json_schema_extra={SEALED_MARK: "sealed"},
        description="Personal data, sealed (AES-256-GCM token, or Fernet before 2026-12-05) for "
        "the services entitled to it (docs/personal-data.md)",
    ),
]


def dev_key(purpose: str) -> str:
    """A key that is the same on every developer's machine: development only, refused elsewhere."""
    return base64.urlsafe_b64encode(hashlib.sha256(purpose.encode()).digest()).decode()


DEV_PERSONAL_DATA_KEY = dev_key("brightline-personal-data-dev-key")


def split_keys(keys: str) -> list[str]:
    return [k.strip() for k in keys.split(",") if k.strip()]


def fernet_key_problems(variable: str, keys: str, development_key: str) -> list[str]:
    """Why a comma-separated Fernet key list is unfit outside development (empty when fit)."""
    parts = split_keys(keys)
    problems = []
    if not parts or development_key in parts:
        problems.append(f"{variable} is missing or the development key")
    for key in parts:
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append(f"{variable} holds a value that is not a Fernet key")
            break
    return problems


def _aes_key(fernet_key: str) -> AESGCM:
    """v2's cipher for a configured (Fernet) key: its 32 bytes stretched by HKDF into a key of
    their own, so no key serves two algorithms."""
    secret = base64.urlsafe_b64decode(fernet_key.encode())
    derived = HKDF(
        algorithm=SHA256(), length=32, salt=None, info=b"brightline sealed v2: AES-256-GCM"
    ).derive(secret)
    return AESGCM(derived)


class Keyring:
    """A comma-separated key list, newest first: the first key seals (v2, or Fernet when
    `seal_as` says so), every key opens tokens of either kind."""

    def __init__(self, keys: str, *, seal_as: SealFormat = "aes-gcm") -> None:
        parts = split_keys(keys)
        if not parts:
            raise ValueError("no key")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        self._ciphers = [_aes_key(k) for k in parts]
        self.seal_as = seal_as

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        clear = value.encode("utf-8")
        if self.seal_as == "fernet":
            return self._fernet.encrypt(clear).decode("ascii")
        nonce = os.urandom(NONCE_BYTES)
        sealed = V2 + nonce + self._ciphers[0].encrypt(nonce, clear, V2)
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, token: str | None) -> str | None:
        """The value in clear; InvalidToken when no key opens it (or it is no token)."""
        if token is None:
            return None
        try:
            raw = token.encode("ascii")
        except (AttributeError, UnicodeEncodeError) as error:  # no token at all: refused too
            raise InvalidToken from error
        if raw.startswith(b"gA"):  # Fernet's version byte 0x80
            return self._fernet.decrypt(raw).decode("utf-8")
        try:
            sealed = base64.urlsafe_b64decode(raw)
        except (binascii.Error, ValueError) as error:
            raise InvalidToken from error
        head, nonce, body = sealed[:1], sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        if head != V2 or len(nonce) != NONCE_BYTES:
            raise InvalidToken
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, body, V2).decode("utf-8")
            except InvalidTag:
                continue
        raise InvalidToken

    def rotate(self, token: str | None) -> str | None:
        """The same value sealed with the newest key (and as this keyring seals)."""
        return self.seal(self.open(token))


@functools.cache  # a payload class's fields never change; asked per event by every consumer
def sealed_fields(payload: type[EventPayload]) -> tuple[str, ...]:
    return tuple(
        name
        for name, info in payload.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and SEALED_MARK in info.json_schema_extra
    )


class CannotOpen(InvalidEvent):
    """A sealed field no key of this service opens: the event can never succeed here, so it is
    dead-lettered."""


class PersonalDataSeal(Keyring):
    """Seals an event's personal data on the producer's side, opens it on an entitled consumer's."""

    def sealed(self, payload: type[P], **values: Any) -> P:
        """The payload built from clear values, its personal data fields sealed."""
        for name in sealed_fields(payload):
            values[name] = self.seal(values.get(name))
        return payload(**values)

    def opened(self, payload: P) -> P:
        """The same payload with its personal data in clear, for this process only (earlier
        versions without sealed fields come back as they are)."""
        return payload.model_copy(update=self.opened_data(type(payload), payload.model_dump()))

    def opened_data(self, payload: type[EventPayload], data: dict[str, Any]) -> dict[str, Any]:
        """An event's JSON data with its sealed fields opened."""
        opened = dict(data)
        for name in sealed_fields(payload):
            try:
                opened[name] = self.open(data.get(name))
            except InvalidToken as error:
                raise CannotOpen(f"{payload.__name__}.{name}: no key opens it") from error
        return opened

    def opening(self, event: Event) -> Event:
        """The event as this entitled consumer reads it: `data` and `payload()` with the
        personal data in clear, for this process only (the consumer's edge opens; what it hands
        on stays inside the service). A token no key opens raises CannotOpen (dead letter)."""
        try:
            payload = spec_for_type(event.type).payload
        except UnknownEventType:
            return event
        if not sealed_fields(payload):
            return event
        return OpenedEvent(
            **{f.name: getattr(event, f.name) for f in dataclasses.fields(Event)}
            | {"data": self.opened_data(payload, event.data)},
            sealed_data=event.data,
        )


@dataclasses.dataclass(frozen=True)
class OpenedEvent(Event):
    """An event whose sealed fields an entitled consumer has opened (PersonalDataSeal.opening)."""

    sealed_data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def payload(self) -> EventPayload:
        # The contract is checked on the data as it travelled (tokens), then opened.
        as_sent = Event(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(Event)}
            | {"data": self.sealed_data}
        )
        checked: EventPayload = as_sent.payload()
        # The fields were opened once, at the edge (`data`): taking them from there saves a
        # Fernet decryption (HMAC + AES) per sealed field per call.
        opened = {name: self.data.get(name) for name in sealed_fields(type(checked))}
        return checked.model_copy(update=opened)

    def check(self) -> None:
        # The data as it travelled, as payload() checks it: no event rebuilt, no payload copied.
        validated_data(self.type, self.sealed_data)
