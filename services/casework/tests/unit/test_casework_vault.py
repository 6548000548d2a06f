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


def test_contact_keys_rotate_newest_first():
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = ContactVault(old).seal("13912345678")
    both = ContactVault(f"{new},{old}")
    assert both.open(sealed) == "13912345678"  # old values still open during the rotation
    rotated = both.rotate(sealed)
    assert ContactVault(new).open(rotated) == "13912345678"  # and need only the new key after


def test_casework_refuses_the_development_key_outside_development():
    import pytest
    from pydantic import ValidationError

    from brightline.casework.settings import CaseworkSettings

    with pytest.raises(ValidationError, match="CASEWORK_CONTACT_KEY"):
        CaseworkSettings(
            environment="production",
            oidc_issuer="https://id.example.cn/realms/brightline",
            database_url="postgresql+asyncpg://svc:Zq8-long-random-pass-77@db:5432/x",
        )
