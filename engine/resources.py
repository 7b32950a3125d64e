"""What a worker process needs for I/O, built once from the settings and passed explicitly."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from dramatiq.errors import BrokerConnectionError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import ServiceUnavailable
from core.settings import Settings
from hesk.attachments import AttachmentFolder
from intercom_api.apps import AppSet, AppSlot
from intercom_api.client import IntercomClient
from ledger.database import open_engine
from ledger.events import confirmed_map_event
from ledger.generations import active_ledger_id
from ledger.marks import migration_mark
from ledger.store import Ledger
from workers.broker import namespace, redis_client
from workers.pacing import SharedPacer


def service_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says PostgreSQL or Redis is away for now (restarting, say).

    Such a failure changes nothing recorded: the unit is retried, the coordinator waits.
    """
    if isinstance(exc, ServiceUnavailable | OperationalError | PoolTimeout):
        return True  # LedgerUnavailable included; OperationalError: lost or refused connection
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True  # any driver error on a connection the server dropped
    return isinstance(exc, redis.ConnectionError | redis.TimeoutError | BrokerConnectionError)


@dataclass
class Resources:
    """The ledger, Intercom client, Redis and attachments folder of one process."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    redis: redis.Redis
    attachments: AttachmentFolder | None
    _clients: threading.local = field(default_factory=threading.local)
    _apps: AppSet | None = None
    _map: dict[str, Any] | None = None
    _mark: str = ""

    @classmethod
    def from_settings(
        cls, settings: Settings, *, threads: int = 8, pre_ping: bool = True
    ) -> Resources:
        """Open the ledger (created/upgraded if needed) and connect to Redis.

        ``threads``: how many threads will use these resources at once (each may hold a
        unit's lock connection and one more). ``pre_ping``: see ledger.database.open_engine.
        """
        engine = open_engine(settings.ledger_url, pool_size=threads + 1, pre_ping=pre_ping)
        folder = (
            AttachmentFolder(settings.hesk_attachments_dir)
            if settings.hesk_attachments_dir
            else None
        )
        return cls(
            settings=settings,
            engine=engine,
            ledger=Ledger(engine, active_ledger_id(engine, settings.migration)),
            redis=redis_client(settings),
            attachments=folder,
        )

    @property
    def apps(self) -> AppSet:
        """The migration's Intercom apps (tokens), paced with every worker through Redis:
        each app by its own window (learnt from its headers), all of them together by the
        workspace's budget (``H2I_INTERCOM_WORKSPACE_RATE`` per minute, in 10 s windows)."""
        if self._apps is None:
            base = namespace(self.settings.migration) + ":pace"
            per_window = max(1, self.settings.intercom_workspace_rate // 6)
            tokens = self.settings.tokens
            self._apps = AppSet(
                tokens,
                pacer_for=lambda fp: SharedPacer(self.redis, f"{base}:{fp}"),
                workspace=SharedPacer(
                    self.redis, f"{base}:workspace", limit=per_window, learn=False
                ),
                on_revoked=self._first_to_revoke,
            )
        return self._apps

    def _first_to_revoke(self, slot: AppSlot) -> bool:
        """Record in Redis that ``slot``'s token was refused; True for the first report
        across every worker (so the warning is logged once)."""
        key = namespace(self.settings.migration) + ":revoked"
        try:
            pipe = self.redis.pipeline()
            pipe.sadd(key, slot.fingerprint)
            pipe.expire(key, 3600)  # a later run warns again
            return bool(pipe.execute()[0])
        except (redis.ConnectionError, redis.TimeoutError):
            return True

    @property
    def client(self) -> IntercomClient:
        """This thread's Intercom client (one keep-alive connection pool per app per thread)."""
        client = getattr(self._clients, "client", None)
        if client is None:
            client = IntercomClient.from_settings(self.settings, apps=self.apps)
            self._clients.client = client
        return client

    def for_ledger(self, ledger_id: str) -> Resources:
        """These resources serving another generation's ledger (``M@gen2`` after a
        rollback): the same connections, client and pacer, its own confirmed map."""
        if ledger_id == self.ledger.migration_id:
            return self
        return dataclasses.replace(self, ledger=Ledger(self.engine, ledger_id), _map=None)

    def confirmed_map(self) -> dict[str, Any] | None:
        """The newest confirmed field map of this migration (cached per process)."""
        if self._map is None:
            found = confirmed_map_event(self.ledger)
            self._map = found.map if found is not None else None
        return self._map

    def mark(self) -> str:
        """This migration's mark (ledger.marks), recorded on first use (cached per process).

        Kept in the first generation's ledger: every generation shares it.
        """
        if not self._mark:
            self._mark = migration_mark(Ledger(self.engine, self.settings.migration))
        return self._mark

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()
