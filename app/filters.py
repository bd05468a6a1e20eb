"""What a question may be limited to: a period, a set of publishers, and articles left out.

Every interface (`/api/ask`, `ask --since/--until/--source`, Slack's `since:`/`until:`,
the browser's period) turns what it was sent into one `Filters` with `parse_filters`,
so the rules and the error messages are the same everywhere. Retrieval applies them
inside each retriever (Chroma's `where` on the passages' `day` and `publisher`, and
a mask over the BM25 rows), so a narrow period still returns its top-k instead of
what is left of an unfiltered top-k.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.answer.record import QuestionError
from app.ingest.metadata import MAX_PUBLISHER_CHARS

MAX_PUBLISHERS = 50
# A period of at most this many days goes to Chroma as its list of days, not as a range: Chroma
# filters one clause at a time, and among 56,527 passages a day's list took 33 ms against 73 ms
# for the range's two clauses (a week 57 against 100 ms, a month 155 against 203).
MAX_LISTED_DAYS = 366
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def day_number(iso_date: str) -> int:
    """`2025-06-24` -> 20250624: a date Chroma can compare as a number; 0 when unknown."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso_date or "")
    return int("".join(match.groups())) if match else 0


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    publishers: tuple[str, ...] = ()
    # Article ids no answer may come from. The evaluation asks each ARCD question with its own
    # paragraph left out: a question on the archive's topic whose answer is not in it.
    excluded: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.publishers or self.excluded)

    @property
    def days(self) -> tuple[int, int] | None:
        """The period as day numbers (both ends included), None when there is none. An undated
        article (day 0) is outside every period."""
        if not (self.since or self.until):
            return None
        return (day_number(self.since.isoformat()) if self.since else 1,
                day_number(self.until.isoformat()) if self.until else 99_991_231)

    def within(self, since: date | None, until: date | None) -> Filters | None:
        """These filters narrowed to a period a question names; None when the two do not meet
        (the person's own filters win: the question's period is then ignored)."""
        low = max((d for d in (self.since, since) if d), default=None)
        high = min((d for d in (self.until, until) if d), default=None)
        if low and high and low > high:
            return None
        return Filters(low, high, self.publishers, self.excluded)

    def chroma_where(self) -> dict[str, Any] | None:
        """The filters as a Chroma `where` on passage metadata (`day`, `publisher`, `source`)."""
        clauses: list[dict[str, Any]] = []
        if self.since and self.until and 0 <= (span := (self.until - self.since).days) < MAX_LISTED_DAYS:
            clauses.append({"day": {"$in": [day_number((self.since + timedelta(days=n)).isoformat())
                                            for n in range(span + 1)]}})
        elif self.days:
            clauses += [{"day": {"$gte": self.days[0]}}, {"day": {"$lte": self.days[1]}}]
        if self.publishers:
            clauses.append({"publisher": {"$in": list(self.publishers)}})
        if self.excluded:
            clauses.append({"source": {"$nin": list(self.excluded)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


NO_FILTERS = Filters()


def parse_filters(since: object = None, until: object = None, sources: object = None) -> Filters:
    """`since`/`until` as `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (a month or year: its first day for
    `since`, its last for `until`); `sources`: publisher names. Raises `QuestionError` naming the field."""
    low = _parse_day("since", since, first=True)
    high = _parse_day("until", until, first=False)
    if low and high and low > high:
        raise QuestionError(f"the period is empty: since {low.isoformat()} is after until {high.isoformat()}")
    return Filters(low, high, _parse_publishers(sources))


def _parse_day(field: str, value: object, first: bool) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise QuestionError(f"{field} must be a date as text (YYYY-MM-DD, YYYY-MM or YYYY)")
    match = _PARTIAL_DATE.fullmatch(value.strip())
    try:
        if not match:
            raise ValueError
        year, month, day = int(match[1]), int(match[2] or (1 if first else 12)), match[3]
        last = calendar.monthrange(year, month)[1]
        return date(year, month, int(day) if day else (1 if first else last))
    except ValueError:
        raise QuestionError(f"{field}: {value[:40]!r} is not a date (YYYY-MM-DD, YYYY-MM or YYYY)") from None


def _parse_publishers(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise QuestionError("sources must be a list of publisher names")
    if len(value) > MAX_PUBLISHERS:
        raise QuestionError(f"sources: at most {MAX_PUBLISHERS} publishers")
    names = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
    if any(len(name) > MAX_PUBLISHER_CHARS for name in names):
        raise QuestionError(f"sources: a publisher name is over {MAX_PUBLISHER_CHARS} characters")
    return names
