"""Casework's rules as data files shipped in the package."""

from importlib import resources

import yaml

from brightline.casework.domain.confidentiality import Confidentiality


def load_confidentiality(path: str | None = None) -> Confidentiality:
    if path:
        with open(path, encoding="utf-8") as handle:
            return Confidentiality.from_dict(yaml.safe_load(handle))
    raw = resources.files(__package__).joinpath("confidentiality.yaml").read_text("utf-8")
    return Confidentiality.from_dict(yaml.safe_load(raw))
