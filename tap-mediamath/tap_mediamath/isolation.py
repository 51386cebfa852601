"""One partition's failure stops no other: partitions the API refuses are set aside, and the run ends saying so.

When the API refuses one partition (HTTP 403 or 404 after the retries: an account the credentials lost, an
advertisable the user may no longer read), the stream logs one line naming the partition, the stream and the
API's words, forgets that partition's remaining requests, and goes on with the others; the partition's
bookmark stays at its last complete window. After the last stream the command exits 1 with one line listing
every partition set aside and the setting that leaves it out, so no gap is silent, while every other
partition's STATE has been emitted and the next run resumes them. A failure of the whole API (rejected
credentials, an unreachable host, a spent quota) is not a refusal: it still stops the run at once.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import dataclasses
import typing as t
from http import HTTPStatus

from singer_sdk.exceptions import FatalAPIError

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Hashable, Iterator

    import requests

    from .inflight import InFlight, Job

_T = t.TypeVar("_T")

#: The answers that refuse one partition rather than the whole API.
REFUSALS = (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)


class PartitionRefusedError(FatalAPIError):
    """The API refused a request of one partition (403 or 404): fatal to the run only if nothing sets it aside."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(message)
        self.response = response


class PartitionsSetAsideError(FatalAPIError):
    """The run ended with partitions set aside: everything else was emitted, but the run is not complete."""


@dataclasses.dataclass(frozen=True)
class SetAside:
    """A partition left out of one stream: which, why (the API's words) and the setting that leaves it out."""

    stream: str
    partition: str  # "account 3286272607917027328"
    reason: str
    setting: str  # account_ids, advertisable_eids, ...


class SetAsideRegistry:
    """The partitions set aside in this run (one tap per process), read by the command when the run ends."""

    def __init__(self) -> None:
        self.entries: list[SetAside] = []

    def add(self, entry: SetAside, logger: logging.Logger) -> None:
        self.entries.append(entry)
        logger.error("%s: %s set aside, the other partitions go on: %s", entry.stream, entry.partition, entry.reason)

    def is_refused(self, partition: str) -> bool:
        """Whether any stream of this run had this partition refused."""
        return any(entry.partition == partition for entry in self.entries)

    def failure(self) -> PartitionsSetAsideError | None:
        """The error that ends a run with partitions set aside, or None."""
        if not self.entries:
            return None
        listed = "; ".join(f"{entry.partition} in {entry.stream} ({entry.reason})" for entry in self.entries)
        settings = sorted({entry.setting for entry in self.entries})
        count = len(self.entries)
        return PartitionsSetAsideError(
            f"{count} partition{'s' if count > 1 else ''} set aside, every other partition is complete and bookmarked: {listed}. "
            f"Restore access, or leave {'them' if count > 1 else 'it'} out with {' / '.join(settings)}"
        )


SET_ASIDE = SetAsideRegistry()


def partition_answers(
    flight: InFlight[_T], partition: Hashable, set_aside: Callable[[PartitionRefusedError], None]
) -> Iterator[tuple[Job[_T], requests.Response]]:
    """The answers of ``partition``'s jobs, in order, while they come next in ``flight``. When the API refuses
    one, the partition's other jobs are dropped (sent or not) and ``set_aside`` is told why; the others go on."""
    while flight.next_partition() == partition:
        try:
            answer = flight.take()
        except PartitionRefusedError as refusal:
            flight.drop(partition)
            set_aside(refusal)
            return
        yield answer
