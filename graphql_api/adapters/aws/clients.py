"""boto3 clients, created lazily and once per container, with an explicit botocore Config.

No endpoint is hard-coded: boto3 honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>,
so the whole service can be pointed at an emulator.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from graphql_api.settings import Settings

if TYPE_CHECKING:
    from botocore.config import Config


def botocore_config(settings: Settings, *, read_timeout: float | None = None) -> Config:
    from botocore.config import Config  # imported with the first client, not at start-up

    return Config(
        region_name=settings.region,
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=read_timeout or settings.aws_read_timeout_seconds,
        retries={"mode": settings.aws_retry_mode, "max_attempts": settings.aws_max_attempts},
        max_pool_connections=settings.aws_max_pool_connections,
        tcp_keepalive=True,
    )


class AwsClients:
    """One client per service, built on first use under a lock (client creation is not
    thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def get(self, service: str, *, read_timeout: float | None = None) -> Any:
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    import boto3.session

                    if self._session is None:
                        self._session = boto3.session.Session()
                    config = botocore_config(self._settings, read_timeout=read_timeout)
                    if service == "s3":  # pre-signed output links use Signature Version 4
                        config = config.merge(type(config)(signature_version="s3v4"))
                    client = self._session.client(service, config=config)
                    self._clients[service] = client
        return client
