"""The private apps (tokens) a client sends through: several apps of one workspace.

Intercom limits each private app (its ``X-RateLimit-*`` headers) and the whole workspace.
An :class:`AppSet` holds one :class:`AppSlot` per token, each paced by its own pacer, and
one pacer for the workspace that every call also passes. It is shared by the threads of a
process (each thread's client keeps its own connections per app).

Choosing an app: a caller may ask for one (the write engine names the app on its intent
first); otherwise apps take turns, skipping any that is waiting for its window after a 429.
A token Intercom refuses (401) is *revoked*: it drops out with one warning and the others
carry on; a 401 means nothing was processed, so the call is sent again on another app.
A token is never shown: an app is named by its position and fingerprint (core.tokens).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.logs import get_logger, register_secret
from core.tokens import fingerprint
from intercom_api.pacing import WINDOW_SECONDS, LocalPacer, NullPacer, Pacer

log = get_logger(__name__)


@dataclass
class AppSlot:
    """One token: its position (1-based), fingerprint, pacer and health."""

    position: int
    token: str = field(repr=False)
    fingerprint: str
    pacer: Pacer = field(repr=False)
    revoked: bool = False
    #: Unix time until which the app's window is spent (after a 429)
    blocked_until: float = 0.0

    @property
    def name(self) -> str:
        """How messages name this app: ``token #2 (fp 1a2b3c4d)``."""
        return f"token #{self.position} (fp {self.fingerprint})"


class AppSet:
    """The apps a client may use, their pacers, and the workspace's pacer."""

    def __init__(
        self,
        tokens: Sequence[str],
        *,
        pacer_for: Callable[[str], Pacer] | None = None,
        workspace: Pacer | None = None,
        on_revoked: Callable[[AppSlot], bool] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``pacer_for(fingerprint)`` makes each app's pacer (default: a LocalPacer);
        ``workspace`` paces every call of every app (default: none); ``on_revoked(slot)``
        tells others a token was refused and answers whether this is the first report."""
        if not tokens:
            raise ValueError("an AppSet needs at least one token")
        make = pacer_for or (lambda _fp: LocalPacer())
        self.slots = []
        for position, token in enumerate(tokens, start=1):
            register_secret(token)
            fp = fingerprint(token)
            self.slots.append(AppSlot(position, token, fp, make(fp)))
        self.by_fingerprint = {slot.fingerprint: slot for slot in self.slots}
        self.workspace: Pacer = workspace if workspace is not None else NullPacer()
        self._on_revoked = on_revoked
        self._clock = clock
        self._lock = threading.Lock()
        self._turn = 0
        self._workspace_binds = True

    def __repr__(self) -> str:
        return f"AppSet({', '.join(s.name for s in self.slots)})"

    def pace_workspace(self) -> None:
        """Wait for the workspace's budget, unless it cannot bind: when every app's own
        limit is known (a pacer's ``limit``) and together they fit in the workspace's, the
        apps' windows already keep the workspace under its limit (one or two apps at
        Intercom's defaults), and the workspace's shared window is not asked at all."""
        if self._workspace_binds:
            self.workspace.acquire()

    def learn_limits(self) -> None:
        """Decide again whether the workspace's budget can bind (after an answer)."""
        total = 0
        for slot in self.slots:
            limit = getattr(slot.pacer, "limit", None)
            if not isinstance(limit, int):
                self._workspace_binds = True
                return
            total += 0 if slot.revoked else limit
        ceiling = getattr(self.workspace, "limit", None)
        self._workspace_binds = not isinstance(ceiling, int) or total > ceiling

    def usable(self) -> list[AppSlot]:
        """The apps not revoked, in order."""
        return [slot for slot in self.slots if not slot.revoked]

    def choose(self, preferred: str | None = None) -> AppSlot | None:
        """The app for the next call: ``preferred`` (a fingerprint) if it is usable and not
        waiting, else the next ready app in turn, else the one free soonest; None when every
        token was revoked."""
        if len(self.slots) == 1:  # one app: it, whatever its wait, unless it was revoked
            only = self.slots[0]
            return None if only.revoked else only
        now = self._clock()
        with self._lock:
            usable = [slot for slot in self.slots if not slot.revoked]
            if not usable:
                return None
            wanted = self.by_fingerprint.get(preferred) if preferred else None
            if wanted is not None and not wanted.revoked and wanted.blocked_until <= now:
                return wanted
            ready = [slot for slot in usable if slot.blocked_until <= now]
            if not ready:
                return min(usable, key=lambda slot: slot.blocked_until)
            self._turn += 1
            return ready[self._turn % len(ready)]

    def has_other(self, slot: AppSlot) -> bool:
        """Whether another usable app is ready now (so a call refused by ``slot`` can move)."""
        now = self._clock()
        return any(
            other is not slot and not other.revoked and other.blocked_until <= now
            for other in self.slots
        )

    def rate_limited(self, slot: AppSlot, reset_at: float | None) -> None:
        """``slot`` answered 429: skip it until its window resets (at most one window)."""
        now = self._clock()
        until = now + 1.0 if reset_at is None else min(max(reset_at, now), now + WINDOW_SECONDS)
        with self._lock:
            slot.blocked_until = max(slot.blocked_until, until)

    def revoke(self, slot: AppSlot) -> None:
        """``slot``'s token was refused (401): drop it, warning once."""
        with self._lock:
            if slot.revoked:
                return
            slot.revoked = True
            remaining = sum(1 for s in self.slots if not s.revoked)
        first = self._on_revoked(slot) if self._on_revoked is not None else True
        if first:
            log.warning(
                "intercom.token_revoked",
                app=slot.name,
                remaining=remaining,
                hint="Intercom refused this token (401); the others carry on. Replace it in "
                "H2I_INTERCOM_TOKEN before the next run.",
            )
