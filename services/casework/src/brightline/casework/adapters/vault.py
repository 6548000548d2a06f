"""Field encryption for the reporter's identity and contact (brightline.contracts.sealed's
tokens: AES-256-GCM, Fernet values sealed before 2026-12-05 still open).

Keys rotate: CASEWORK_CONTACT_KEY is a comma-separated list, newest first: the first key seals,
every key opens; `python -m brightline.casework rotate-contact-key` re-seals every stored value
with the first key (and as the vault seals now), after which the old keys can be dropped."""

from __future__ import annotations

from brightline.casework.domain.commands import Contact
from brightline.contracts.sealed import Keyring


class ContactVault(Keyring):
    """Casework's own key (CASEWORK_CONTACT_KEY), not the events' one: what the vault stores
    stays closed to every other service holding the personal data key."""

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
