"""What the streams need from the run, fetched once and shared: the token, the requests in flight, the accounts
and their report help listings. The tap builds it and hands it to every stream (streams do not import tap.py)."""

from __future__ import annotations

import typing as t
from functools import cached_property

from .inflight import RequestPool
from .isolation import PartitionRefusedError
from .settings import chosen_entries

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from .auth import RoktAuthenticator

#: One account's help rows for a report, or the API's refusal of them.
HelpRows = list[dict] | PartitionRefusedError


class RoktLookups:
    """The run's shared lookups; the fetching is the streams' (``load_accounts``, ``load_report_fields``)."""

    def __init__(
        self,
        config: Mapping[str, t.Any],
        make_authenticator: Callable[[], RoktAuthenticator],
        load_accounts: Callable[[], list[dict]],
        load_report_fields: Callable[[str, Sequence[str]], dict[str, HelpRows]],
    ) -> None:
        self.config = config
        self._make_authenticator = make_authenticator
        self._load_accounts = load_accounts
        self._load_report_fields = load_report_fields
        self._report_fields: dict[str, dict[str, HelpRows]] = {}  # report -> account id -> help rows

    @cached_property
    def pool(self) -> RequestPool:
        """The requests in flight, for every stream of the run (inflight.py)."""
        return RequestPool(int(self.config["max_concurrent_requests"]))

    @cached_property
    def authenticator(self) -> RoktAuthenticator:
        """One token for the whole run, shared by every stream (made when the first request needs it)."""
        return self._make_authenticator()

    @cached_property
    def accounts(self) -> list[dict]:
        """The accounts to extract: ``account_ids`` (checked against what the credentials see), or all."""
        wanted = self.config.get("account_ids")
        return chosen_entries("account_ids", wanted, self._load_accounts(), "accountId", "the accounts these credentials can see")

    def account(self, account_id: str) -> dict:
        return next(account for account in self.accounts if account["accountId"] == account_id)

    def report_fields(self, report: str, account_id: str) -> HelpRows:
        """An account's help rows for ``report`` (campaigns | transactions), or the API's refusal; the first call
        for a report fetches every account's, requests in flight."""
        if report not in self._report_fields:
            self._report_fields[report] = self._load_report_fields(report, [a["accountId"] for a in self.accounts])
        return self._report_fields[report][account_id]

    def metric_slugs(self, report: str, account_id: str) -> tuple[str, ...] | PartitionRefusedError:
        rows = self.report_fields(report, account_id)
        if not isinstance(rows, list):
            return rows
        return tuple(row["slug"] for row in rows if row["kind"] == "metric")
