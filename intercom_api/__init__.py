"""The destination side: an httpx client for Intercom REST API 2.16, rate-limit pacing,
typed errors, and the lookups that resolve an in-doubt write (docs/intercom-client.md)."""

from intercom_api.base import RetryPolicy
from intercom_api.client import IntercomClient
from intercom_api.pacing import LocalPacer, NullPacer, Pacer

__all__ = ["IntercomClient", "LocalPacer", "NullPacer", "Pacer", "RetryPolicy"]
