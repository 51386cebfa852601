"""What the streams need from the run, fetched once and shared: the credentials, the requests in flight, the
organization, its advertisables, and the requests spent of the day's quota. The tap builds it and hands it to
every stream (streams do not import tap.py)."""

from __future__ import annotations

import collections
import threading
import typing as t
from functools import cached_property

from .auth import AdRollOAuthAuthenticator
from .inflight import RequestPool
from .settings import chosen_entries

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    from .auth import PersonalAccessTokenAuthenticator


class AdRollLookups:
    """The run's shared lookups; the fetching is the streams' (``load_organization``, ``load_advertisables``)."""

    def __init__(
        self,
        config: Mapping[str, t.Any],
        make_authenticator: Callable[[], PersonalAccessTokenAuthenticator | AdRollOAuthAuthenticator],
        load_organization: Callable[[], dict],
        load_advertisables: Callable[[], list[dict]],
    ) -> None:
        self.config = config
        self._make_authenticator = make_authenticator
        self._load_organization = load_organization
        self._load_advertisables = load_advertisables
        self.request_counts: collections.Counter[str] = collections.Counter()
        self._counts_lock = threading.Lock()

    @cached_property
    def pool(self) -> RequestPool:
        """The requests in flight, for every stream of the run (inflight.py)."""
        return RequestPool(int(self.config["max_concurrent_requests"]))

    @cached_property
    def authenticator(self) -> PersonalAccessTokenAuthenticator | AdRollOAuthAuthenticator:
        """One for the whole run, shared by every stream: refresh tokens are single-use (made when first needed)."""
        return self._make_authenticator()

    def count_request(self, stream_name: str) -> None:
        with self._counts_lock:
            self.request_counts[stream_name] += 1

    def log_request_counts(self, logger: logging.Logger) -> None:
        """The requests this run spent of the day's quota, per stream (the last stream's summary calls this)."""
        counts = collections.Counter(self.request_counts)
        if isinstance(self.authenticator, AdRollOAuthAuthenticator) and self.authenticator.token_requests:
            counts["oauth_token"] = self.authenticator.token_requests
        listed = ", ".join(f"{name}={count}" for name, count in sorted(counts.items())) or "none"
        logger.info("AdRoll requests this run: %d (%s)", sum(counts.values()), listed)

    @cached_property
    def organization(self) -> dict:
        """The organization record (one ``organization/get`` per run)."""
        return self._load_organization()

    @cached_property
    def advertisables(self) -> list[dict]:
        """The advertisables to extract (one ``organization/get_advertisables`` per run)."""
        wanted = self.config.get("advertisable_eids")
        return chosen_entries("advertisable_eids", wanted, self._load_advertisables(), "eid", "the organization's advertisables")

    @cached_property
    def advertisable_eids(self) -> list[str]:
        """The EIDs the reports ask for: the setting as given (no request), or every advertisable."""
        return list(self.config.get("advertisable_eids") or [a["eid"] for a in self.advertisables])

    @cached_property
    def organization_eid(self) -> str:
        """The organization: the setting; else the organization of the advertisables, which the reports list
        anyway when ``advertisable_eids`` is not set; else one ``organization/get``."""
        if self.config.get("organization_eid"):
            return str(self.config["organization_eid"])
        if not self.config.get("advertisable_eids"):
            for advertisable in self.advertisables:
                if advertisable.get("organization"):
                    return str(advertisable["organization"])
        return str(self.organization["eid"])
