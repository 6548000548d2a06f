"""Field encryption for the reporter's identity and contact (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

from cryptography.fernet import Fernet

from brightline.casework.domain.commands import Contact


class ContactVault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)

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
