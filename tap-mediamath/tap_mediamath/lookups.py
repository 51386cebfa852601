"""What the streams need from the run, made once and shared: the token and the requests in flight, and the
report partitions (the organization, or each advertiser of ``advertiser_ids``). The tap builds it and hands it
to every stream (streams do not import tap.py)."""

from __future__ import annotations

import typing as t
from functools import cached_property

from .inflight import RequestPool

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from .auth import MediaMathAuthenticator


class MediaMathLookups:
    """The run's shared lookups."""

    def __init__(self, config: Mapping[str, t.Any], make_authenticator: Callable[[], MediaMathAuthenticator]) -> None:
        self.config = config
        self._make_authenticator = make_authenticator

    @cached_property
    def pool(self) -> RequestPool:
        """The requests in flight, for every stream of the run (inflight.py)."""
        return RequestPool(int(self.config["max_concurrent_requests"]))

    @cached_property
    def authenticator(self) -> MediaMathAuthenticator:
        """One token for the whole run, shared by every stream (made when the first request needs it)."""
        return self._make_authenticator()

    def partitions(self, *, has_advertiser_id: bool) -> list[dict]:
        """A dataset's partitions: one per advertiser of ``advertiser_ids`` where the dataset has advertiser_id
        (each with its own bookmark), else the organization."""
        organization = int(self.config["organization_id"])
        advertisers = self.config.get("advertiser_ids")
        if advertisers and has_advertiser_id:
            return [{"organization_id": organization, "advertiser_id": int(advertiser)} for advertiser in advertisers]
        return [{"organization_id": organization}]
