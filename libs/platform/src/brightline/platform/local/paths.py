"""Where the project's own folders are: the checkout root, its caches and its local data."""

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds deploy/kafka/pom.xml.

    BRIGHTLINE_HOME wins; otherwise walk up from the working directory, then from this file
    (an editable install lives inside the checkout).
    """
    if home := os.environ.get("BRIGHTLINE_HOME"):
        return Path(home).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "deploy" / "kafka" / "pom.xml").is_file():
                return folder
    raise FileNotFoundError(
        "cannot find the Brightline checkout (deploy/kafka/pom.xml); set BRIGHTLINE_HOME"
    )


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
