from brightline.casework.main import SERVICE_DIR, create_app
from brightline.casework.rotation import rotate_contact_key
from brightline.casework.settings import CaseworkSettings
from brightline.platform.cli import run_cli

run_cli(
    CaseworkSettings,
    create_app,
    SERVICE_DIR,
    default_port=8003,
    commands={
        "rotate-contact-key": (
            "re-encrypt every stored contact with the first CASEWORK_CONTACT_KEY",
            rotate_contact_key,
        )
    },
)
