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


def botocore_config(
    settings: Settings, *, read_timeout: float | None = None, max_attempts: int | None = None
) -> Config:
    from botocore.config import Config  # imported with the first client, not at start-up

    read = read_timeout or settings.aws_read_timeout_seconds
    return Config(
        region_name=settings.region,
        # A connection that cannot be made within the read budget is not worth waiting for.
        connect_timeout=min(settings.aws_connect_timeout_seconds, read),
        read_timeout=read,
        retries=(
            {"mode": settings.aws_retry_mode, "max_attempts": settings.aws_max_attempts}
            if max_attempts is None
            else {"mode": "standard", "total_max_attempts": max_attempts}
        ),
        max_pool_connections=settings.aws_max_pool_connections,
        tcp_keepalive=True,
    )


class AwsClients:
    """One client per service and timeout profile, built on first use under a lock (client
    creation is not thread-safe). Callers that keep their own deadline ask for a read
    timeout and a single attempt; a few rounded timeouts cover every remaining budget."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[tuple[str, float | None, int | None], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def get(
        self, service: str, *, read_timeout: float | None = None, max_attempts: int | None = None
    ) -> Any:
        profile = (service, read_timeout, max_attempts)
        client = self._clients.get(profile)
        if client is None:
            with self._lock:
                client = self._clients.get(profile)
                if client is None:
                    import boto3.session

                    if self._session is None:
                        self._session = boto3.session.Session()
                    config = botocore_config(
                        self._settings, read_timeout=read_timeout, max_attempts=max_attempts
                    )
                    if service == "s3":  # pre-signed output links use Signature Version 4
                        config = config.merge(type(config)(signature_version="s3v4"))
                    client = self._session.client(service, config=config)
                    self._clients[profile] = client
        return client
