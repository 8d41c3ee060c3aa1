"""Which server the client talks to, and with which key: flags first, then the settings `nectar serve` uses."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from service.client.api import Connection
from service.settings import Settings

ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # a server bound to all reaches locally


class NoConnection(Exception):
    """The client was not told enough to reach a server (the message says what to pass)."""


def api_key_file(settings: Settings) -> Path:
    """Where the first `nectar serve` on an empty database writes the key it made."""
    return settings.data_dir / "api_key"


def default_url(settings: Settings) -> str:
    host = ANY_ADDRESS.get(settings.host, settings.host)
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:  # a host name
        pass
    return f"http://{host}:{settings.port}"


def default_key(settings: Settings) -> str | None:
    if settings.api_key:
        return settings.api_key
    key_file = api_key_file(settings)
    try:
        return key_file.read_text().strip() or None
    except OSError:
        return None


def connection(settings: Settings, url: str | None, api_key: str | None) -> Connection:
    """`--url` or http://NECTAR_HOST:NECTAR_PORT; `--api-key`, NECTAR_API_KEY, or the key file in NECTAR_DATA_DIR."""
    key = api_key or default_key(settings)
    if not key:
        raise NoConnection(
            f"no API key: pass --api-key, set NECTAR_API_KEY, or run where {api_key_file(settings)} is readable"
        )
    return Connection(url or default_url(settings), key)
