"""Reading the time a question is about: periods, "latest", "timeline", and the traps that are none of them."""

from __future__ import annotations

import random
from datetime import date

import pytest

from app.ingest.metadata import find_date
from app.text.arabic import normalize
from app.text.months import MONTHS
from app.text.time_expressions import MAX_CHARS, NO_TIME, TimeIntent, read_time

TODAY = date(2025, 7, 10)  # a Thursday
JANUARY = date(2026, 1, 15)
D = date


def read(question: str, today: date = TODAY) -> tuple[date | None, date | None, bool, bool]:
    intent = read_time(question, today)
    return intent.since, intent.until, intent.latest, intent.timeline


def period(since: date | None, until: date | None) -> tuple[date | None, date | None, bool, bool]:
    return since, until, False, False


NOTHING = period(None, None)
JUNE_2025 = period(D(2025, 6, 1), D(2025, 6, 30))
YEAR_2015 = period(D(2015, 1, 1), D(2015, 12, 31))
JUNE_25 = period(D(2025, 6, 25), D(2025, 6, 25))


@pytest.mark.parametrize(("question", "expected"), [
    ("What happened in June 2025?", JUNE_2025),
    ("June 2025 floods", JUNE_2025),
    ("What did the minister say in June of 2025?", JUNE_2025),
    ("ماذا حدث في يونيو 2025؟", JUNE_2025),
    ("ماذا حدث في حزيران 2025؟", JUNE_2025),
    ("ماذا حدث في يونيو/حزيران 2025؟", JUNE_2025),
    ("ماذا حدث في حزيران (يونيو) 2025؟", JUNE_2025),
    ("ماذا حدث في يونيو من عام 2025؟", JUNE_2025),
    ("ماذا قال الوزير في كانون الثاني 2015؟", period(D(2015, 1, 1), D(2015, 1, 31))),
    ("ماذا قال الوزير في تشرين الأول 2015؟", period(D(2015, 10, 1), D(2015, 10, 31))),
    ("ماذا حدث عام 2015؟", YEAR_2015),
    ("ماذا حدث سنة 2015؟", YEAR_2015),
    ("ماذا حدث في 2015؟", YEAR_2015),
    ("ماذا حدث في العام 2015؟", YEAR_2015),
    ("What happened in 2015?", YEAR_2015),
    ("What happened during 2015?", YEAR_2015),
    ("What happened in the year 2015?", YEAR_2015),
    ("What happened in early 2015?", YEAR_2015),
    ("ماذا حدث في النصف الأول من عام 2015؟", YEAR_2015),
    ("ماذا حدث في مطلع 2015؟", YEAR_2015),
    ("What happened on 25 June 2025?", JUNE_25),
    ("What happened on the 25th of June 2025?", JUNE_25),
    ("ماذا حدث في 25 يونيو 2025؟", JUNE_25),
    ("ماذا حدث يوم 25 حزيران 2025؟", JUNE_25),
    ("What happened on 2025-06-25?", JUNE_25),
    ("ماذا حدث في 25/06/2025؟", JUNE_25),
    ("ماذا حدث في 25.6.2025؟", JUNE_25),
    ("What happened on 06/25/2025?", JUNE_25),
    ("What happened on June 25, 2025?", JUNE_25),
    ("What happened on June 25 2025?", JUNE_25),
    # Two periods: the earliest start, the latest end.
    ("What changed between 2014 and 2015?", period(D(2014, 1, 1), D(2015, 12, 31))),
    ("ماذا تغير بين 2014 و2015؟", period(D(2014, 1, 1), D(2015, 12, 31))),
    ("ماذا حدث في عامي 2014 و2015؟", period(D(2014, 1, 1), D(2015, 12, 31))),
    ("ماذا حدث من 2014 حتى 2016؟", period(D(2014, 1, 1), D(2016, 12, 31))),
    ("What happened in 2014-2015?", period(D(2014, 1, 1), D(2015, 12, 31))),
    ("ماذا حدث من يونيو إلى أغسطس 2015؟", period(D(2015, 6, 1), D(2015, 8, 31))),
    ("What happened from June to August 2015?", period(D(2015, 6, 1), D(2015, 8, 31))),
    ("What happened between June and August 2015?", period(D(2015, 6, 1), D(2015, 8, 31))),
    ("ماذا حدث بين يونيو وأغسطس 2015؟", period(D(2015, 6, 1), D(2015, 8, 31))),
    ("What happened from November to February 2015?", period(D(2014, 11, 1), D(2015, 2, 28))),
    ("What happened between 25 June and 3 July 2025?", period(D(2025, 6, 25), D(2025, 7, 3))),
    ("ماذا حدث في يونيو 2015 وفي مارس 2017؟", period(D(2015, 6, 1), D(2017, 3, 31))),
    ("What happened from 2014 to 2030?", NOTHING),  # a range ending in the future is a plan
    # "since" is open-ended.
    ("ماذا حدث منذ 2015؟", period(D(2015, 1, 1), None)),
    ("ماذا تغير منذ عام 2015؟", period(D(2015, 1, 1), None)),
    ("What has changed since June 2025?", period(D(2025, 6, 1), None)),
    ("ماذا حدث من 2011 حتى الآن؟", period(D(2011, 1, 1), None)),
    ("What happened from 2015 to date?", period(D(2015, 1, 1), None)),
    ("What happened from 2015 until the present?", period(D(2015, 1, 1), None)),
    ("ماذا حدث من 2011 حتى اليوم؟", period(D(2011, 1, 1), TODAY)),
    ("ماذا حدث منذ 2015 وفي 2010؟", period(D(2010, 1, 1), None)),
])
def test_absolute_periods(question: str, expected: tuple):
    assert read(question) == expected


@pytest.mark.parametrize(("question", "today", "expected"), [
    # A day or month without a year: the most recent one begun by today.
    ("What happened on 25 June?", TODAY, JUNE_25),
    ("ماذا حدث في 25 يونيو؟", TODAY, JUNE_25),
    ("ماذا حدث في 10 يوليو؟", TODAY, period(TODAY, TODAY)),
    ("ماذا حدث في 11 يوليو؟", TODAY, period(D(2024, 7, 11), D(2024, 7, 11))),
    ("What happened on June 25?", TODAY, JUNE_25),
    ("What did the dates festival report on 5 August?", D(2015, 9, 10), period(D(2015, 8, 5), D(2015, 8, 5))),
    ("What happened in June?", TODAY, JUNE_2025),
    ("ماذا حدث في يونيو؟", TODAY, JUNE_2025),
    ("ماذا حدث في شهر يوليو؟", TODAY, period(D(2025, 7, 1), D(2025, 7, 31))),
    ("What happened in December?", TODAY, period(D(2024, 12, 1), D(2024, 12, 31))),
    ("ماذا حدث في ديسمبر؟", JANUARY, period(D(2025, 12, 1), D(2025, 12, 31))),
    ("What happened on 25 December?", JANUARY, period(D(2025, 12, 25), D(2025, 12, 25))),
    ("ماذا حدث في 29 فبراير؟", TODAY, period(D(2024, 2, 29), D(2024, 2, 29))),
    ("What happened from June to August?", TODAY, period(D(2024, 6, 1), D(2024, 8, 31))),
])
def test_days_and_months_without_a_year(question: str, today: date, expected: tuple):
    assert read(question, today) == expected


@pytest.mark.parametrize(("question", "today", "expected"), [
    ("ماذا حدث اليوم؟", TODAY, period(TODAY, TODAY)),
    ("ما أخبار اليوم؟", TODAY, period(TODAY, TODAY)),
    ("ماذا قال الرئيس اليوم الثلاثاء؟", TODAY, period(TODAY, TODAY)),
    ("What happened today?", TODAY, period(TODAY, TODAY)),
    ("What happened yesterday?", TODAY, period(D(2025, 7, 9), D(2025, 7, 9))),
    ("ماذا حدث أمس؟", TODAY, period(D(2025, 7, 9), D(2025, 7, 9))),
    ("ماذا حدث بالأمس؟", TODAY, period(D(2025, 7, 9), D(2025, 7, 9))),
    ("ماذا حدث البارحة؟", TODAY, period(D(2025, 7, 9), D(2025, 7, 9))),
    ("ماذا حدث أول أمس؟", TODAY, period(D(2025, 7, 8), D(2025, 7, 8))),
    ("What happened the day before yesterday?", TODAY, period(D(2025, 7, 8), D(2025, 7, 8))),
    # Weeks begin on Saturday, Sunday or Monday: this week from the earliest start (Saturday 5 July),
    # last week from the Saturday before it to the Sunday before the latest start (Monday 7 July).
    ("What happened this week?", TODAY, period(D(2025, 7, 5), TODAY)),
    ("ماذا حدث هذا الأسبوع؟", TODAY, period(D(2025, 7, 5), TODAY)),
    ("ماذا حدث الأسبوع الجاري؟", TODAY, period(D(2025, 7, 5), TODAY)),
    ("What happened last week?", TODAY, period(D(2025, 6, 28), D(2025, 7, 6))),
    ("ماذا حدث الأسبوع الماضي؟", TODAY, period(D(2025, 6, 28), D(2025, 7, 6))),
    ("Whom did the family accuse, according to yesterday's news?", TODAY, period(D(2025, 7, 9), D(2025, 7, 9))),
    ("What happened over the past week?", TODAY, period(D(2025, 7, 3), TODAY)),
    ("What happened last week?", D(2026, 1, 5), period(D(2025, 12, 27), D(2026, 1, 4))),  # a Monday
    ("What happened last week?", D(2026, 1, 3), period(D(2025, 12, 21), D(2026, 1, 2))),  # a Saturday
    ("What happened this week?", D(2026, 1, 3), period(D(2025, 12, 28), D(2026, 1, 3))),
    # Months and years are calendar ones.
    ("What happened this month?", TODAY, period(D(2025, 7, 1), D(2025, 7, 31))),
    ("ماذا حدث هذا الشهر؟", TODAY, period(D(2025, 7, 1), D(2025, 7, 31))),
    ("ماذا حدث الشهر الحالي؟", TODAY, period(D(2025, 7, 1), D(2025, 7, 31))),
    ("ماذا حدث الشهر الجاري؟", TODAY, period(D(2025, 7, 1), D(2025, 7, 31))),
    ("What happened last month?", TODAY, JUNE_2025),
    ("ماذا حدث الشهر الماضي؟", TODAY, JUNE_2025),
    ("ماذا حدث في الشهر المنصرم؟", TODAY, JUNE_2025),
    ("What happened last month?", JANUARY, period(D(2025, 12, 1), D(2025, 12, 31))),
    ("ماذا حدث الشهر الماضي؟", JANUARY, period(D(2025, 12, 1), D(2025, 12, 31))),
    ("What happened this year?", TODAY, period(D(2025, 1, 1), D(2025, 12, 31))),
    ("ماذا حدث هذا العام؟", TODAY, period(D(2025, 1, 1), D(2025, 12, 31))),
    ("ماذا حدث هذه السنة؟", TODAY, period(D(2025, 1, 1), D(2025, 12, 31))),
    ("ماذا حدث العام الحالي؟", TODAY, period(D(2025, 1, 1), D(2025, 12, 31))),
    ("ماذا حدث خلال العام الجاري؟", TODAY, period(D(2025, 1, 1), D(2025, 12, 31))),
    ("What happened last year?", TODAY, period(D(2024, 1, 1), D(2024, 12, 31))),
    ("ماذا حدث العام الماضي؟", TODAY, period(D(2024, 1, 1), D(2024, 12, 31))),
    ("ماذا حدث السنة الماضية؟", TODAY, period(D(2024, 1, 1), D(2024, 12, 31))),
    ("ماذا حدث العام الماضي؟", JANUARY, period(D(2025, 1, 1), D(2025, 12, 31))),
    ("ماذا تغير منذ العام الماضي؟", TODAY, period(D(2024, 1, 1), None)),
    # The last N: today minus N of them .. today.
    ("What happened in the last 7 days?", TODAY, period(D(2025, 7, 3), TODAY)),
    ("What happened in the past 30 days?", TODAY, period(D(2025, 6, 10), TODAY)),
    ("What happened in the past seven days?", TODAY, period(D(2025, 7, 3), TODAY)),
    ("What happened in the last 24 hours?", TODAY, period(D(2025, 7, 9), TODAY)),
    ("What happened in the last two weeks?", TODAY, period(D(2025, 6, 26), TODAY)),
    ("ماذا حدث في آخر 7 أيام؟", TODAY, period(D(2025, 7, 3), TODAY)),
    ("ماذا حدث في آخر سبعة أيام؟", TODAY, period(D(2025, 7, 3), TODAY)),
    ("ماذا حدث خلال الأيام الـ7 الماضية؟", TODAY, period(D(2025, 7, 3), TODAY)),
    ("ماذا حدث خلال الأيام السبعة الماضية؟", TODAY, period(D(2025, 7, 3), TODAY)),
    ("ماذا حدث خلال الـ7 أيام الماضية؟", TODAY, period(D(2025, 7, 3), TODAY)),
    ("ماذا حدث في آخر 30 يوما؟", TODAY, period(D(2025, 6, 10), TODAY)),
    ("ماذا حدث خلال اليومين الماضيين؟", TODAY, period(D(2025, 7, 8), TODAY)),
    ("What happened in the last 3 months?", TODAY, period(D(2025, 4, 10), TODAY)),
    ("ماذا حدث خلال الأشهر الثلاثة الماضية؟", TODAY, period(D(2025, 4, 10), TODAY)),
    ("ماذا حدث في آخر شهرين؟", TODAY, period(D(2025, 5, 10), TODAY)),
    ("What happened in the last 3 months?", D(2025, 5, 31), period(D(2025, 2, 28), D(2025, 5, 31))),
    ("What happened in the last 2 months?", JANUARY, period(D(2025, 11, 15), JANUARY)),
    ("ماذا حدث خلال السنوات الخمس الماضية؟", TODAY, period(D(2020, 7, 10), TODAY)),
    ("What happened over the past year?", TODAY, period(D(2024, 7, 10), TODAY)),
])
def test_relative_periods(question: str, today: date, expected: tuple):
    assert read(question, today) == expected


@pytest.mark.parametrize("question", [
    # Deadlines and targets, before and after: never the period asked about.
    "What will NATO spend by 2035?",
    "ما الذي تعهدت به الدول بحلول عام 2035؟",
    "ما الذي تعهدت به الدول بحلول عام 2020؟",
    "ما الذي تعهدت به الدول بحلول نهاية عام 2020؟",
    "What is planned by the end of 2020?",
    "Will the plan run until 2030?",
    "Will the plan run until 2020?",
    "هل تستمر الخطة حتى 2030؟",
    "هل استمرت الخطة حتى 2020؟",
    "What happened before 2020?",
    "ماذا حدث قبل 2020؟",
    "ماذا حدث قبل عام 2020؟",
    "What happened after 2015?",
    "ماذا حدث بعد يونيو 2015؟",
    "What happened until yesterday?",
    # Numbers that are not years.
    "هل ارتفعت الأسعار 5%؟",
    "هل ارتفع الإنفاق 3.5 في المئة؟",
    "هل أرسلت الحكومة 2000 جندي؟",
    "هل أرسلت أكثر من 2000 جندي؟",
    "Did they send 2,000 troops?",
    "هل بلغت الميزانية 700 مليار دولار؟",
    "Did they deploy between 2000 and 3000 soldiers?",
    "What were the 2015 election results?",  # a year with no cue may be a count
    # A year or date after today: nothing was published then.
    "ماذا سيحدث في 2030؟",
    "What is planned for December 2025?",
    "ماذا سيحدث في 25 ديسمبر 2025؟",
    # Not dates at all.
    "ما هو اليوم الوطني السعودي؟",
    "متى يحتفل باليوم العالمي للمرأة؟",
    "ماذا حدث في اليوم الأول من الحرب؟",
    "ماذا حدث في اليوم التالي؟",
    "ماذا حدث في اليوم الـ100 للحرب؟",
    "What is 30 February 2015?",
    "ماذا حدث في 31 يونيو؟",
    "ماذا حدث في عام 1850؟",
    "What may happen next?",
    "ماذا حدث في يوم آخر؟",
    "ماذا حدث في الشهر الأخير من الحرب؟",
])
def test_traps_are_not_periods(question: str):
    assert read(question) == NOTHING


@pytest.mark.parametrize(("question", "expected"), [
    ("What is the latest on the festival?", True),
    ("What are the most recent figures?", True),
    ("What are the newest measures?", True),
    ("What did the ministry announce recently?", True),
    ("What has the ministry said lately?", True),
    ("When was the last time the council met?", True),
    ("ما آخر ما قاله الرئيس؟", True),
    ("ما آخر أخبار غزة؟", True),
    ("ما هي آخر التطورات في السودان؟", True),
    ("آخر تطورات الأزمة", True),
    ("ما آخر المستجدات؟", True),
    ("أعطني آخر الأخبار", True),
    ("ما أحدث التطورات؟", True),
    ("ما أحدث تقرير عن البطالة؟", True),
    ("ماذا أعلنت الوزارة مؤخراً؟", True),
    ("ما الذي أعلن حديثاً؟", True),
    ("ماذا حدث في الآونة الأخيرة؟", True),
    ("ماذا حدث في الأيام الماضية؟", True),
    # "آخر" meaning "other", "أحدث" the verb, "حديثا" the noun, windows and ends of periods.
    ("هل علقت دولة أخرى؟", False),
    ("ماذا قال مسؤول آخر؟", False),
    ("هل حدث ذلك في يوم آخر؟", False),
    ("هل هناك مسؤول آخر صرح بذلك؟", False),
    ("ما موقف الطرف الآخر؟", False),
    ("هل أحدث القرار تغييرا؟", False),
    ("هل أجرى الوزير حديثا صحفيا؟", False),
    ("ماذا حدث في آخر 7 أيام؟", False),
    ("ماذا حدث في آخر يونيو؟", False),
    ("What was the last decision of 2015?", False),
])
def test_latest(question: str, expected: bool):
    assert read_time(question, TODAY).latest is expected


def test_latest_and_a_period_together():
    assert read("ما آخر أخبار غزة الشهر الماضي؟") == (D(2025, 6, 1), D(2025, 6, 30), True, False)


@pytest.mark.parametrize(("question", "expected"), [
    ("How did the crisis develop?", True),
    ("How has the economy of Egypt changed since 2015?", True),
    ("How have relations between the two countries evolved?", True),
    ("How did the war unfold?", True),
    ("How did the news of Mullah Omar's death develop?", True),  # punctuation is not a word of the window
    ("How did prices change over time?", True),
    ("What is the timeline of the war?", True),
    ("Give me the history of the conflict", True),
    ("What is the evolution of the dispute?", True),
    ("كيف تطور الموقف السعودي؟", True),
    ("كيف تطورت العلاقات بين البلدين؟", True),
    ("ما هو تطور الأزمة؟", True),
    ("كيف يتطور الوضع في غزة؟", True),
    ("كيف تغير موقف الحكومة؟", True),
    ("كيف تغيرت أسعار النفط؟", True),
    ("ما مراحل المشروع؟", True),
    ("ما التسلسل الزمني للأحداث؟", True),
    ("كيف تبدلت المواقف مع مرور الوقت؟", True),
    # Not a timeline: developing something, climate change, the latest developments, advanced weapons.
    ("ما خطط تطوير الصناعات الدفاعية؟", False),
    ("ما موقف الدولة من تغير المناخ؟", False),
    ("ما آخر التطورات؟", False),
    ("هل اشترت الدولة أسلحة متطورة؟", False),
    ("How does the vaccine change cells?", False),
    ("How to change the law?", False),
])
def test_timeline(question: str, expected: bool):
    assert read_time(question, TODAY).timeline is expected


def test_timeline_with_a_period():
    assert read("كيف تطورت العلاقات منذ عام 2015؟") == (D(2015, 1, 1), None, False, True)


@pytest.mark.parametrize(("question", "expected"), [
    ("ماذا حدث في يونيو ٢٠٢٥؟", JUNE_2025),
    ("ماذا حدث في ۲۰۱۵؟", YEAR_2015),
    ("ماذا حدث في ٢٥ يونيو ٢٠٢٥؟", JUNE_25),
    ("ماذا حدث في آخر ٧ أيام؟", period(D(2025, 7, 3), TODAY)),
    ("هل ارتفعت الأسعار ٣٫٥٪؟", NOTHING),
    ("مَاذَا حَدَثَ فِي يُونْيُو ٢٠٢٥؟", JUNE_2025),
    ("ماذا حـــدث الشَّهْرَ المَاضِيَ؟", JUNE_2025),
    ("ماذا حدث فى عامِ ٢٠١٥؟", YEAR_2015),
    ("ما آخِرُ ما قالَهُ الرئيس؟", (None, None, True, False)),
    ("كيفَ تطوَّرَ الموقف؟", (None, None, False, True)),
])
def test_arabic_indic_digits_and_diacritics(question: str, expected: tuple):
    assert read(question) == expected


def test_no_time_and_period():
    assert read_time("ما هو الناتو؟", TODAY) == NO_TIME == TimeIntent()
    assert not NO_TIME.period
    assert TimeIntent(since=TODAY).period and TimeIntent(until=TODAY).period
    assert not TimeIntent(latest=True, timeline=True).period


def test_one_month_table_for_articles_and_questions():
    assert MONTHS[normalize("كانون الثاني")] == 1 and MONTHS[normalize("تشرين الأول")] == 10
    assert MONTHS[normalize("آب")] == 8 and MONTHS["june"] == 6
    assert normalize("الأول") not in MONTHS and "كانون" not in MONTHS  # halves of a name are no month
    assert find_date("القاهرة - 25 يونيو 2025") == "2025-06-25"
    assert find_date("دمشق 3 آب 2024") == "2024-08-03"


PIECES = ["في", "in", "since", "منذ", "من", "إلى", "بين", "و", "عام", "آخر", "اليوم", "الماضي", "الـ", "last", "past",
          "يونيو", "كانون", "الثاني", "june", "may", "/", "-", ".", ",", "(", ")", "%", "٫", "٢٠١٥", "2015", "1899",
          "9999", "0", "29", "31", "02", "7", "سبعة", "أيام", "days", "months", "يومين", "کیف", "how", "did", "تطور",
          "\u064e", "\u0640", "\u200f", "  ", "99999999999999999999", "x" * 50]


def test_never_raises_on_hostile_questions():
    rng = random.Random(7)
    for today in (TODAY, D(1900, 1, 3), D(1, 1, 1), date.max):
        for _ in range(400):
            question = "".join(rng.choice(PIECES) + rng.choice(["", " "]) for _ in range(rng.randint(0, 30)))
            intent = read_time(question, today)
            assert intent.since is None or intent.since.year >= 1900
            assert intent.since is None or intent.until is None or intent.since <= intent.until


@pytest.mark.parametrize("question", [
    "في " * 500 + "2015",
    "1-" * 500,
    "2015-" * 300,
    "آخر " * 500,
    "منذ عام " * 300,
    "how did " * 300,
    "يونيو/" * 400,
    "٢" * 5000,
    "a" * 100_000,
])
def test_long_hostile_questions_are_read_only_up_to_the_bound(question: str):
    # What one question can cost is bounded by MAX_CHARS: the rest is never read (timings are benchmarks' job).
    assert read_time(question, TODAY) == read_time(question[:MAX_CHARS], TODAY)
    if len(question) > MAX_CHARS:  # a period past the bound is not read
        assert read_time(question + " في يونيو 2015", TODAY) == read_time(question, TODAY)
