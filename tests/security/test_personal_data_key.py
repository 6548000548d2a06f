"""The key that opens personal data in events: only the entitled services hold it, and none of
them starts outside development with the development key, a placeholder or no key."""

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from brightline.platform.settings import PersonalDataSettings
from brightline.platform.testing import service_names, settings_class

PRODUCTION = {
    "BRIGHTLINE_ENV": "production",
    "BRIGHTLINE_OIDC_ISSUER": "https://id.utility.example/realms/brightline",
    "DATABASE_URL": "postgresql+asyncpg://svc:Xk2-9fLq-Vb7-pWm3@db/x",
    "CASEWORK_CONTACT_KEY": Fernet.generate_key().decode(),
    "CONSOLE_OIDC_CLIENT_SECRET": "Vq7-Lm2-Zr9-Tx4-Wp6",
}
ENTITLED = {"intake", "dispatch", "casework", "callback", "records", "console"}


def test_only_the_entitled_services_hold_the_personal_data_key():
    holders = {n for n in service_names() if issubclass(settings_class(n), PersonalDataSettings)}
    assert holders == ENTITLED  # the SLA monitor reads its clocks without ever opening them


@pytest.mark.parametrize("service", sorted(ENTITLED))
@pytest.mark.parametrize("key", [None, "dev", "CHANGE-ME-fernet-key"])
def test_no_production_start_without_a_real_personal_data_key(service, key, monkeypatch):
    from brightline.contracts.sealed import DEV_PERSONAL_DATA_KEY

    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIGHTLINE_PERSONAL_DATA_KEY", raising=False)
    if key is not None:
        value = DEV_PERSONAL_DATA_KEY if key == "dev" else key
        monkeypatch.setenv("BRIGHTLINE_PERSONAL_DATA_KEY", value)
    with pytest.raises(ValidationError, match="BRIGHTLINE_PERSONAL_DATA_KEY"):
        settings_class(service)()
    monkeypatch.setenv("BRIGHTLINE_PERSONAL_DATA_KEY", Fernet.generate_key().decode())
    settings_class(service)()  # a real key: no complaint about it
