"""Field encryption for the reporter's identity and contact (Fernet: AES-128-CBC + HMAC-SHA256).

Keys rotate: CASEWORK_CONTACT_KEY is a comma-separated list, newest first (MultiFernet): the
first key seals, every key opens; `python -m brightline.casework rotate-contact-key` re-seals
every stored value with the first key, after which the old keys can be dropped."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet

from brightline.casework.domain.commands import Contact


class ContactVault:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ValueError("no contact key")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])

    def rotate(self, token: str | None) -> str | None:
        """The same value sealed with the newest key."""
        return None if token is None else self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def seal(self, value: str | None) -> str | None:
        return (
            None if value is None else self._fernet.encrypt(value.encode("utf-8")).decode("ascii")
        )

    def open(self, token: str | None) -> str | None:
        return (
            None if token is None else self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        )

    def seal_contact(self, contact: Contact) -> dict:
        return {
            "caller_name_enc": self.seal(contact.caller_name),
            "phone_enc": self.seal(contact.phone),
            "address_enc": self.seal(contact.address),
            "customer_id_enc": self.seal(contact.customer_id),
        }

    def open_contact(self, row) -> Contact:
        return Contact(
            caller_name=self.open(row.caller_name_enc),
            phone=self.open(row.phone_enc),
            address=self.open(row.address_enc),
            customer_id=self.open(row.customer_id_enc),
        )
