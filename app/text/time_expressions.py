"""The time a question is about: the period it names, and whether it wants the latest news or a timeline.

Why: "what happened in June 2025?" or "ماذا حدث الشهر الماضي؟" should be answered from articles of
that period, not from the best-matching article of any year. The engine restricts retrieval to
`TimeIntent.since`..`until` (both included), falling back to the whole archive (and saying so) when
nothing in the period answers; for `latest` it prefers the newest article; for `timeline` it lists
dated lines in date order.

Reading is conservative: a wrong period hides the right article, a missed one only costs ranking.
So these are never periods:
- deadlines and targets, and anything "before"/"after" a date: "by 2035", "بحلول عام 2030",
  "until 2030", "حتى 2030", "قبل 2030", "after 2015";
- a date later than `today` (nothing can have been published then);
- a number that may be a count or a share: a year alone needs a cue ("in", "during", "since", "في",
  "خلال", "منذ", "عام", "سنة"), so "2000 جندي", "أكثر من 2000", "700 مليار" and "5%" are not years.

Conventions (against `today`):
- a day is that day, a month its first to last day, a year 1 January to 31 December; "early/late/the
  end of X" ("مطلع/أواخر/نهاية") reads as X;
- a day or month without a year ("on 25 June", "في يونيو") is the most recent one begun by `today`;
- "since X" / "منذ X" / "from X" is open-ended: `since` set, `until` None;
- a week may begin on Saturday, Sunday or Monday (all three are in use where Arabic news is
  written), so "this week" runs from the earliest of the three starts to today, and "last week" /
  "الأسبوع الماضي" from 7 days before the earliest start to the day before the latest one: on a
  Tuesday, Saturday to the Sunday before. "The past week" is today-7..today;
- "this month/year" is the whole current calendar month/year, "last month/year" the previous one;
- "the last/past N hours/days/weeks/months/years" ("آخر N أيام", "الأيام الـN الماضية") is
  today minus N of them .. today;
- several periods ("between 2014 and 2015", "من يونيو إلى أغسطس 2015") give the earliest start and
  the latest end; a range's first month borrows the year of its last ("June to August 2015").
Only the first `MAX_CHARS` characters are read; reading never raises.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import islice
from typing import Literal

from app.text.arabic import normalize
from app.text.months import MONTHS


@dataclass(frozen=True)
class TimeIntent:
    since: date | None = None  # the period the question names, both ends included
    until: date | None = None
    latest: bool = False  # "latest / most recent / newest / آخر ما / أحدث / مؤخرا"
    timeline: bool = False  # "how did X develop over time", "تطور", "كيف تغير", "مراحل"

    @property
    def period(self) -> bool:
        return self.since is not None or self.until is not None


NO_TIME = TimeIntent()
MAX_CHARS = 2000
MIN_YEAR = 1900
_MAX_WALK = 6  # words looked at before a date for its cue ("in", "by the end of", "في النصف الأول من عام")
_HOW_WINDOW = 10  # words (not punctuation) between "how did" and "change": "the news of Mullah Omar's death"

Span = tuple[date, date | None]  # (since, until); until None: open-ended
Cue = Literal["in", "since", "from", "not"]


def _words(text: str) -> frozenset[str]:
    return frozenset(normalize(text).split())


def _table(groups: dict[str, str]) -> dict[str, str]:
    return {word: key for key, text in groups.items() for word in _words(text)}


# Tokens: numbers (with their decimals: "3.5", "2,000", "25.6.2025"), words, single punctuation marks.
# "الـ7" is "ال", "7"; "و2015" is "و", "2015".
_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+|[^\w\s]")

_CUES: dict[str, Cue] = {
    **{w: "in" for w in _words("in during throughout within on في خلال طوال طيلة أثناء إبان وفي وخلال ففي")},
    **{w: "since" for w in _words("since منذ ومنذ")},
    **{w: "from" for w in _words("from between من بين ومن وبين")},
    **{w: "not" for w in _words("by until till before after to through ahead "
                                "بحلول حتى قبل بعد إلى لغاية لحين وحتى وقبل وبعد وإلى")},
}
# Two words whose second alone would be another cue: "according to yesterday's news" is no deadline.
_CUE_PHRASES: dict[tuple[str, str], Cue] = {("according", "to"): "in"}
# Words naming what follows as a year or month: they make a bare "2015" a year.
_MARKERS = _words(
    "year years month months عام العام عامي لعام بعام وعام والعام سنة السنة سنتي لسنة بسنة وسنة والسنة "
    "شهر الشهر شهري لشهر بشهر وشهر والشهر"
)
# Words between a cue and its date that do not change which period is meant.
_MODIFIERS = _words(
    "the of early late mid end beginning start middle first second half quarter ال "
    "مطلع بداية أوائل أواخر نهاية منتصف أواسط أوسط آخر أول النصف الأول الثاني الربع الثالث الرابع"
)
_FILLERS = _words(", ، of the year من عام العام سنة السنة لعام")  # "June of 2025", "يونيو من عام 2025"
_ORDINAL_SUFFIXES = _words("st nd rd th")
_CONNECTORS = _words("to until till through and - – — / إلى حتى لغاية و وحتى وإلى")
_NOW = _words("now present date الآن يومنا")  # "from 2015 to date", "من 2011 حتى الآن"
_DASHES = frozenset("-–—/")

_DAYS_AGO = {
    tuple(normalize(phrase).split()): days
    for phrase, days in (
        ("today", 0), ("اليوم", 0), ("yesterday", 1), ("أمس", 1), ("بالأمس", 1), ("البارحة", 1),
        ("أول أمس", 2), ("day before yesterday", 2),
    )
}
_TODAY = normalize("اليوم")
# What makes "اليوم" a day of something ("اليوم الوطني", "اليوم الأول") rather than "today".
_ORDINALS = _words("الأول الثالث الرابع الخامس السادس السابع الثامن التاسع العاشر الأخير السابق")

_UNITS = _table({
    "hour": "hour hours ساعة ساعات الساعات الساعة",
    "day": "day days يوم يوما أيام الأيام",
    "week": "week weeks أسبوع أسبوعا أسابيع الأسابيع الأسبوع",
    "month": "month months شهر شهرا أشهر شهور الأشهر الشهور الشهر",
    "year": "year years عام عاما أعوام الأعوام سنة سنوات سنين السنوات السنين العام السنة",
})
_DUALS = _table({
    "hour": "ساعتين الساعتين",
    "day": "يومين اليومين",
    "week": "أسبوعين الأسبوعين",
    "month": "شهرين الشهرين",
    "year": "عامين العامين سنتين السنتين",
})
_CALENDAR = _table({"week": "week الأسبوع", "month": "month الشهر", "year": "year العام السنة"})
_THIS = _words("this current هذا هذه")
_CURRENT = _words("الحالي الحالية الجاري الجارية")
_PREVIOUS = _words("الماضي الماضية الفائت الفائتة المنصرم المنصرمة")  # "الشهر الماضي"; not "الشهر الأخير" (of the war)
_PAST = _PREVIOUS | _words("الماضيين الماضيان الماضيتين الأخير الأخيرة الأخيرين الأخيرتين الفائتين المنصرمين")
_LAST = _words("last past آخر")
_NUMBERS = {
    **{word: n for n, words in enumerate(
        ("واحد واحدة", "اثنين اثنان اثنتين", "ثلاث ثلاثة", "أربع أربعة", "خمس خمسة", "ست ستة", "سبع سبعة",
         "ثمان ثماني ثمانية", "تسع تسعة", "عشر عشرة"), start=1) for word in _words(words)},
    **{word: n for n, word in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), start=1)},
}

_LATEST = _words("latest newest recent recently lately الأحدث مؤخرا موخرا")
_RECENT_NOUNS = _words("الآونة الفترة المدة الأيام الأسابيع الأشهر الشهور السنوات الأعوام المرة")  # + "الأخيرة"
_ASKING = _words("ما ماذا هو هي هل في عن حول بشأن على إلى من كان كانت وما فما وهل ماهي ماهو")
_NEWS = _words("أخبار تطورات مستجدات تصريحات تحديثات أنباء نتائج أرقام تقارير تطور تصريح تقرير قرار خبر بيان مرة ما")
_CAUSED = _words("هل قد لقد الذي التي لم وقد")  # "هل أحدث القرار تغييرا": أحدث the verb (caused)
_TALK_VERBS = _words("ألقى أجرى أدلى")  # "أجرى حديثا": حديثا the noun (a talk)
_AKHIR, _AHDATH, _HADITHAN = normalize("آخر"), normalize("أحدث"), normalize("حديثاً")

_TIMELINE = _words("timeline timelines chronology chronological chronologically evolution")
_TIMELINE_AR = re.compile(
    r"[وف]?[بلك]?(?:ال|ل)?(?:[يت]?تطور(?:ت|ه|ها|هم|هما|وا|ان)?|(?:مراحل|تسلسل)(?:ه|ها|هم)?)"
)  # تطور/تطورت/يتطور/التطور, مراحل, تسلسل; not تطوير (developing X), تطورات (news), متطور
_CHANGE_AR = re.compile(r"[يت]?(?:تغير|تبدل)(?:ت|وا)?")  # after "كيف": "كيف تغيرت", not "تغير المناخ"
_HOW_AUX = _words("did has have had was were")
_CHANGE_EN = _words(
    "develop developed developing evolve evolved evolving change changed changing progress progressed "
    "unfold unfolded unfolding shift shifted grow grew grown"
)
_TIMELINE_PHRASES = tuple(
    tuple(normalize(phrase).split())
    for phrase in (
        "over time", "over the years", "history of", "stages of", "عبر الزمن", "عبر السنين", "عبر السنوات",
        "مرور الوقت", "مرور الزمن", "مر السنين", "مر السنوات", "مر الزمن", "الخط الزمني",
    )
)


@dataclass(frozen=True)
class _Mention:
    """A date or relative expression found at tokens[start:end]."""

    start: int
    end: int
    bare: bool = False  # a year or month alone: a period only after a cue or a year/month word
    year: int | None = None
    month: int | None = None
    day: int | None = None
    span: Span | None = None  # relative expressions, already read against today


def read_time(question: str, today: date) -> TimeIntent:
    """The period, "latest" and "timeline" a question asks about (`NO_TIME` when none)."""
    tokens = _TOKEN.findall(normalize(question[:MAX_CHARS]))
    since, until = _period(tokens, today)
    return TimeIntent(since, until, latest=_asks_latest(tokens), timeline=_asks_timeline(tokens))


# --- the period -------------------------------------------------------------------------------


def _period(tokens: list[str], today: date) -> tuple[date | None, date | None]:
    """The earliest start and latest end of the periods named (until None if one is open-ended)."""
    mentions = _mentions(tokens, today)
    spans: list[Span] = []
    k = 0
    while k < len(mentions):
        mention = mentions[k]
        following = mentions[k + 1] if k + 1 < len(mentions) else None
        paired = _range(tokens, mention, following, today) if following else None
        if paired is not None:
            spans += paired
            k += 2
            continue
        spans += _to_now(tokens, mention, today) or _single(tokens, mention, today)
        k += 1
    if not spans:
        return None, None
    ends = [end for _, end in spans]
    return min(start for start, _ in spans), None if None in ends else max(end for end in ends if end)


def _single(tokens: list[str], mention: _Mention, today: date) -> list[Span]:
    """A mention on its own: a period if its cue makes it one."""
    cue, marked = _context(tokens, mention.start)
    if cue == "not" or (mention.bare and not marked and cue not in ("in", "since")):
        return []
    span = _resolve(mention, today)
    if span is None:
        return []
    return [(span[0], None)] if cue in ("since", "from") else [span]


def _range(tokens: list[str], first: _Mention, last: _Mention, today: date) -> list[Span] | None:
    """"between 2014 and 2015", "من يونيو إلى أغسطس 2015": both ends, or None when not a range.

    A range is dropped whole when either end is not a real, past date ("between 2000 and 3000 soldiers").
    """
    if not _joined(tokens, first, last) or not _starts_range(tokens, first):
        return None
    end = _resolve(last, today)
    if end is None:
        return []
    start = _resolve(_borrow_year(first, last, end), today)
    return [] if start is None else [start, end]


def _joined(tokens: list[str], first: _Mention, last: _Mention) -> bool:
    """One connector between two mentions: "2014 and 2015", "2014-2015", "يونيو إلى أغسطس", "يونيو وأغسطس"."""
    if last.start == first.end + 1:
        return tokens[first.end] in _CONNECTORS
    glued = tokens[last.start]
    return last.start == first.end and glued.startswith("و") and glued not in MONTHS


def _to_now(tokens: list[str], first: _Mention, today: date) -> list[Span]:
    """"from 2015 to date", "من 2011 حتى الآن": from the mention's start, open-ended."""
    after = tokens[first.end : first.end + 3]
    if after[:1] and after[0] in _CONNECTORS and _starts_range(tokens, first):
        rest = after[2:] if after[1:2] == ["the"] else after[1:2]
        span = _resolve(first, today) if rest and rest[0] in _NOW else None
        if span is not None:
            return [(span[0], None)]
    return []


def _starts_range(tokens: list[str], first: _Mention) -> bool:
    cue, marked = _context(tokens, first.start)
    return cue != "not" and (not first.bare or marked or cue is not None)


def _borrow_year(first: _Mention, last: _Mention, last_span: Span) -> _Mention:
    """"June to August 2015": June of 2015 (of 2014 for "November to February 2015")."""
    if first.year is not None or first.month is None or last.month is None:
        return first
    year = last_span[0].year
    if (first.month, first.day or 1) > (last.month, last.day or 31):
        year -= 1
    return replace(first, year=year)


def _context(tokens: list[str], start: int) -> tuple[Cue | None, bool]:
    """The cue before tokens[start] ("in", "since", "from", "not" or None), and whether a year/month word names it."""
    marked = False
    for j in range(start - 1, max(-1, start - 1 - _MAX_WALK), -1):
        word = tokens[j]
        if word in _MARKERS:
            marked = True
        elif not (word in _MODIFIERS or (word == "من" and j > 0 and tokens[j - 1] in _MODIFIERS)):
            if j > 0 and (tokens[j - 1], word) in _CUE_PHRASES:
                return _CUE_PHRASES[tokens[j - 1], word], marked
            return _CUES.get(word), marked  # "من" after "النصف الأول" is "of", not "from"
    return None, marked


def _resolve(mention: _Mention, today: date) -> Span | None:
    """The days a mention covers, or None when it is not a real date or starts after today."""
    if mention.span is not None:
        span: Span | None = mention.span
    elif mention.year is not None:
        span = _absolute(mention.year, mention.month, mention.day)
    elif mention.month is not None:
        span = _most_recent(mention.month, mention.day, today)
    else:
        span = None
    return span if span is not None and span[0] <= today else None


def _absolute(year: int, month: int | None, day: int | None) -> Span | None:
    if not MIN_YEAR <= year <= date.max.year:
        return None
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            return date(year, month, 1), date(year, month, monthrange(year, month)[1])
        return date(year, month, day), date(year, month, day)
    except ValueError:  # 30 February, month 13
        return None


def _most_recent(month: int, day: int | None, today: date) -> Span | None:
    """The most recent `month` (or `day` of it) begun by today; 29 February looks back to a leap year."""
    year = today.year if (month, day or 1) <= (today.month, today.day) else today.year - 1
    for candidate in range(year, year - 8, -1):
        span = _absolute(candidate, month, day)
        if span is not None:
            return span
    return None


# --- finding mentions ---------------------------------------------------------------------------


def _mentions(tokens: list[str], today: date) -> list[_Mention]:
    """Every date and relative expression, left to right, none overlapping."""
    found: list[_Mention] = []
    i = 0
    while i < len(tokens):
        mention = _numeric_date(tokens, i) or _named_date(tokens, i) or _relative(tokens, i, today) or _year(tokens, i)
        if mention is None:
            i += 1
        else:
            found.append(mention)
            i = mention.end
    return found


def _at(tokens: list[str], i: int) -> str:
    return tokens[i] if 0 <= i < len(tokens) else ""


def _whole(word: str, most: int) -> int | None:
    """`word` as a whole number of at most `most` digits (not "3.5", "2,000")."""
    return int(word) if word.isascii() and word.isdigit() and len(word) <= most else None


def _plain_number(tokens: list[str], i: int, most: int) -> int | None:
    """tokens[i] as a whole number of at most `most` digits, unless it is a share ("5%")."""
    return None if _at(tokens, i + 1) == "%" else _whole(_at(tokens, i), most)


def _year_token(tokens: list[str], i: int) -> int | None:
    year = _plain_number(tokens, i, 4)
    return year if year is not None and year >= MIN_YEAR else None


def _day_token(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A day of the month at tokens[i] ("25", "25th"), and the index after it."""
    day = _plain_number(tokens, i, 2)
    if day is None or not 1 <= day <= 31:
        return None
    return day, i + 2 if _at(tokens, i + 1) in _ORDINAL_SUFFIXES else i + 1


def _year_after(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A year at tokens[i], perhaps after ", ", "of" or "من عام": the year and the index after it."""
    for j in range(i, i + 4):
        year = _year_token(tokens, j)
        if year is not None:
            return year, j + 1
        if _at(tokens, j) not in _FILLERS:
            return None
    return None


def _month_name(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A month name at tokens[i] ("يونيو", "كانون الثاني", "ويونيو"), and the index after it."""
    for length in (2, 1):
        name = " ".join(tokens[i : i + length])
        for candidate in (name, name[1:] if name.startswith("و") else ""):
            if len(tokens[i : i + length]) == length and candidate in MONTHS:
                return MONTHS[candidate], i + length
    return None


def _month(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A month with its other name, if given: "يونيو/حزيران", "حزيران (يونيو)", "يونيو حزيران"."""
    found = _month_name(tokens, i)
    if found is None:
        return None
    month, end = found
    opener = 1 if _at(tokens, end) in ("/", "(") else 0
    other = _month_name(tokens, end + opener)
    if other is not None and other[0] == month:
        end = other[1] + (1 if opener and _at(tokens, other[1]) == ")" else 0)
    return month, end


def _numeric_date(tokens: list[str], i: int) -> _Mention | None:
    """2025-06-25, 2025/06/25, 25/06/2025, 25.6.2025 (day first unless that cannot be)."""
    if tokens[i].count(".") == 2:
        parts, end = tokens[i].split("."), i + 1
    elif _at(tokens, i + 1) in _DASHES and _at(tokens, i + 3) == tokens[i + 1]:
        parts, end = tokens[i : i + 5 : 2], i + 5
    else:
        return None
    if len(parts) != 3:
        return None
    first, middle, last = (_whole(part, 4) for part in parts)
    if first is None or middle is None or last is None:
        return None
    if len(parts[0]) == 4:
        return _Mention(i, end, year=first, month=middle, day=last)
    if len(parts[2]) != 4:
        return None
    if middle > 12 >= first:
        first, middle = middle, first  # 06/25/2025
    return _Mention(i, end, year=last, month=middle, day=first)


def _named_date(tokens: list[str], i: int) -> _Mention | None:
    """25 June 2025, the 25th of June, 25 يونيو 2025, June 25, 2025, June 2025, يونيو/حزيران 2025, June."""
    day = _day_token(tokens, i)
    if day is not None:
        month = _month(tokens, day[1] + (1 if _at(tokens, day[1]) == "of" else 0))
        if month is None:
            return None
        year = _year_after(tokens, month[1])
        return _Mention(i, year[1] if year else month[1], year=year[0] if year else None, month=month[0], day=day[0])
    month = _month(tokens, i)
    if month is None:
        return None
    day = _day_token(tokens, month[1])
    year = _year_after(tokens, day[1] if day else month[1])
    if day is not None:
        return _Mention(i, year[1] if year else day[1], year=year[0] if year else None, month=month[0], day=day[0])
    if year is not None:
        return _Mention(i, year[1], year=year[0], month=month[0])
    return _Mention(i, month[1], bare=True, month=month[0])


def _year(tokens: list[str], i: int) -> _Mention | None:
    year = _year_token(tokens, i)
    return None if year is None else _Mention(i, i + 1, bare=True, year=year)


# --- relative expressions ---------------------------------------------------------------------


def _relative(tokens: list[str], i: int, today: date) -> _Mention | None:
    for read in (_days_ago, _calendar, _rolling):
        found = read(tokens, i, today)
        if found is not None:
            return _Mention(i, found[1], span=found[0])
    return None


def _days_ago(tokens: list[str], i: int, today: date) -> tuple[Span, int] | None:
    """Today, yesterday, the day before yesterday; not "اليوم الوطني" or "اليوم الأول"."""
    for phrase, days in _DAYS_AGO.items():
        if tuple(tokens[i : i + len(phrase)]) == phrase:
            if phrase == (_TODAY,) and _names_a_day(_at(tokens, i + 1)):
                return None
            day = _days_before(today, days)
            return None if day is None else ((day, day), i + len(phrase))
    return None


def _names_a_day(following: str) -> bool:
    """"اليوم الوطني", "اليوم العالمي", "اليوم الأول", "اليوم الـ100": a day of something, not today."""
    return following == "ال" or (following.startswith("ال") and (following.endswith("ي") or following in _ORDINALS))


def _calendar(tokens: list[str], i: int, today: date) -> tuple[Span, int] | None:
    """This/last week, month or year: "this month", "الشهر الجاري", "هذا العام", "last year", "العام الماضي"."""
    word, following = tokens[i], _at(tokens, i + 1)
    if word in _THIS and following in _CALENDAR:
        span = _this(_CALENDAR[following], today)
    elif word in _CALENDAR and following in _CURRENT:
        span = _this(_CALENDAR[word], today)
    elif word in _CALENDAR and following in _PREVIOUS:
        span = _previous(_CALENDAR[word], today)
    elif word == "last" and following in _CALENDAR:
        span = _previous(_CALENDAR[following], today)
    else:
        return None
    return None if span is None else (span, i + 2)


def _rolling(tokens: list[str], i: int, today: date) -> tuple[Span, int] | None:
    """"the last 7 days", "past three months", "the past week", "آخر 7 أيام", "الأيام الـ7 الماضية", "اليومين الماضيين"."""
    word = tokens[i]
    counted: tuple[int, str, int] | None = None
    if word in _LAST:
        counted = _count(tokens, i + 1)
        if counted is None and word == "past" and _at(tokens, i + 1) in _UNITS:
            counted = 1, _UNITS[tokens[i + 1]], i + 2
    elif word in _UNITS:  # "الأيام الـ7 الماضية", "الأشهر الثلاثة الأخيرة"
        j = i + 2 if _at(tokens, i + 1) == "ال" else i + 1
        number = _count_word(_at(tokens, j))
        if number is not None and _at(tokens, j + 1) in _PAST:
            counted = number, _UNITS[word], j + 2
    else:  # "الـ7 أيام الماضية", "اليومين الماضيين"
        counted = _count(tokens, i)
        if counted is not None and _at(tokens, counted[2]) not in _PAST:
            counted = None
        elif counted is not None:
            counted = counted[0], counted[1], counted[2] + 1
    if counted is None:
        return None
    number, unit, end = counted
    start = _back(today, number, unit)
    return None if start is None else ((start, today), end)


def _count(tokens: list[str], i: int) -> tuple[int, str, int] | None:
    """"7 days", "seven days", "سبعة أيام", "الـ7 أيام", "يومين": the number, the unit and the index after."""
    if _at(tokens, i) in _DUALS:
        return 2, _DUALS[tokens[i]], i + 1
    j = i + 1 if _at(tokens, i) == "ال" else i
    number = _count_word(_at(tokens, j))
    unit = _UNITS.get(_at(tokens, j + 1))
    return None if number is None or unit is None else (number, unit, j + 2)


def _count_word(word: str) -> int | None:
    """A count of at most 4 digits, or one to twelve in words ("سبعة", "الثلاثة", "seven")."""
    if word[:1].isdigit():
        return _whole(word, 4)
    return _NUMBERS.get(word[2:] if word.startswith("ال") else word)


_WEEK_STARTS = (5, 6, 0)  # Saturday, Sunday, Monday (`date.weekday`)


def _week_began(today: date) -> tuple[int, int]:
    """How many days ago this week began at the earliest and at the latest of `_WEEK_STARTS`."""
    ago = [(today.weekday() - start) % 7 for start in _WEEK_STARTS]
    return max(ago), min(ago)


def _this(unit: str, today: date) -> Span | None:
    if unit == "week":
        start = _days_before(today, _week_began(today)[0])
        return None if start is None else (start, today)
    return _absolute(today.year, today.month if unit == "month" else None, None)


def _previous(unit: str, today: date) -> Span | None:
    if unit == "week":
        earliest, latest = _week_began(today)
        start, end = _days_before(today, earliest + 7), _days_before(today, latest + 1)
        return None if start is None or end is None else (start, end)
    if unit == "month":
        return _absolute(today.year - (today.month == 1), today.month - 1 or 12, None)
    return _absolute(today.year - 1, None, None)


def _back(today: date, number: int, unit: str) -> date | None:
    """`number` hours/days/weeks/months/years before today, or None before 1900."""
    if unit in ("hour", "day", "week"):
        return _days_before(today, {"hour": -(-number // 24), "day": number, "week": 7 * number}[unit])
    months = today.year * 12 + today.month - 1 - number * (12 if unit == "year" else 1)
    year, month = divmod(months, 12)
    if year < MIN_YEAR:
        return None
    return date(year, month + 1, min(today.day, monthrange(year, month + 1)[1]))


def _days_before(today: date, days: int) -> date | None:
    try:
        day = today - timedelta(days=days)
    except OverflowError:
        return None
    return day if day.year >= MIN_YEAR else None


# --- latest and timeline ------------------------------------------------------------------------


def _asks_latest(tokens: list[str]) -> bool:
    return any(_latest_at(tokens, i) for i in range(len(tokens)))


def _latest_at(tokens: list[str], i: int) -> bool:
    word, before, after = tokens[i], _at(tokens, i - 1), _at(tokens, i + 1)
    if word in _LATEST or (word == "last" and after == "time"):
        return True
    if word == _AHDATH:
        return before not in _CAUSED
    if word == _HADITHAN:  # "أعلن حديثا" (recently), not "أجرى حديثا صحفيا" (gave an interview)
        return before not in _TALK_VERBS and not after.endswith("يا")
    if word in _RECENT_NOUNS:  # "في الآونة الأخيرة", "الأيام الماضية"
        return after in _PAST
    return word == _AKHIR and _akhir_is_latest(before, after)


def _akhir_is_latest(before: str, after: str) -> bool:
    """آخر as "latest" ("ما آخر", "آخر ما قاله", "آخر تطورات", "آخر المستجدات"), not "another" ("مسؤول آخر").

    "آخر 7 أيام" (a window) and "آخر يونيو" (the end of June) are periods, not "latest".
    """
    if after in _UNITS or after in _DUALS or after in MONTHS or _count_word(after) is not None:
        return False
    if not before or not before.isalpha() or before in _ASKING:
        return True
    return after in _NEWS or (after.startswith("ال") and after != "ال")


def _asks_timeline(tokens: list[str]) -> bool:
    for i, word in enumerate(tokens):
        if word in _TIMELINE or _TIMELINE_AR.fullmatch(word):
            return True
        if word == "كيف" and _CHANGE_AR.fullmatch(_at(tokens, i + 1)):
            return True
        if word == "how" and _at(tokens, i + 1) in _HOW_AUX:
            following = islice((t for t in islice(tokens, i + 2, None) if t.isalnum()), _HOW_WINDOW)
            if not _CHANGE_EN.isdisjoint(following):
                return True
        if any(tuple(tokens[i : i + len(phrase)]) == phrase for phrase in _TIMELINE_PHRASES):
            return True
    return False
