"""The reporter's contact is stored encrypted: nothing readable at rest."""

from brightline.casework.adapters.vault import ContactVault
from brightline.casework.domain.commands import Contact
from brightline.casework.settings import DEV_CONTACT_KEY


def test_contact_is_sealed_and_opened_again():
    vault = ContactVault(DEV_CONTACT_KEY)
    sealed = vault.seal_contact(Contact("张三", "13800138000", "XX路1号", None))
    assert "13800138000" not in str(sealed) and "张三".encode() not in str(sealed).encode()
    assert sealed["customer_id_enc"] is None

    class Row:
        pass

    row = Row()
    for k, v in sealed.items():
        setattr(row, k, v)
    assert vault.open_contact(row) == Contact("张三", "13800138000", "XX路1号", None)
