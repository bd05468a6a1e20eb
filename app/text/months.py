"""Month names and their numbers: the one table every date reader uses.

Egyptian/Gulf Arabic, Levantine/Iraqi Arabic and English (full and abbreviated),
normalised with `app.text.arabic.normalize`, so look up normalised words. Article
headers (`app.ingest.metadata`) and questions (`app.text.time_expressions`) read
dates with it. The Levantine names of January, October, November and December are
two words ("كانون الثاني"); neither word is a month alone ("الأول" is "the first").
"""

from __future__ import annotations

from app.text.arabic import normalize

MONTHS: dict[str, int] = {
    normalize(name.replace("_", " ")): number
    for number, names in enumerate(
        (
            "يناير كانون_الثاني كانون_ثاني january jan",
            "فبراير شباط february feb",
            "مارس آذار march mar",
            "أبريل ابريل نيسان april apr",
            "مايو أيار may",
            "يونيو يونيه حزيران june jun",
            "يوليو يوليه تموز july jul",
            "أغسطس اغسطس آب august aug",
            "سبتمبر أيلول september sep sept",
            "أكتوبر اكتوبر تشرين_الأول تشرين_أول october oct",
            "نوفمبر تشرين_الثاني تشرين_ثاني november nov",
            "ديسمبر كانون_الأول كانون_أول december dec",
        ),
        start=1,
    )
    for name in names.split()
}
