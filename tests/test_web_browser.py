"""End to end in a real browser: Debian's chromium (headless) driving `python -m app serve`.

The server starts cold (empty index folder) exactly as a person would start
it; the tests ask in Arabic and English, follow up, upload articles (good, bad
and hostile ones) and vote. Screenshots and the measured timings are saved in
`artifacts/` (`pytest tests/test_web_browser.py -s` also prints the timings).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

from app.feedback import read_feedback
from tests.fake_openai import FakeOpenAI
from tests.web_helpers import ARTIFACTS, Server, copy_seeds, start_server

pytestmark = pytest.mark.browser  # drives Debian's chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARCTIC = "ما هي مبادرة حارس القطب الشمالي؟"
FOLLOW_UP = "وما سببها؟"
ENGLISH = "What did Rutte say Russia must not do after the war ends?"
TIMEOUT_MS = 90_000

UPLOADED = (
    "افتتحت بلدية وادي الريحان اليوم مكتبة عامة جديدة تضم اثني عشر ألف كتاب، "
    "وقالت رئيسة البلدية سلمى القاسم إن المكتبة ستفتح أبوابها يوميًا حتى منتصف الليل.\n"
)
HOSTILE = (
    "أعلنت بلدية مدينة النخيل افتتاح جسر الياسمين الجديد فوق النهر "
    "<script>window.__xss = 1; alert(1)</script> بعد عامين من العمل.\n"
    'وقال المهندس المسؤول إن جسر الياسمين <img src=x onerror="window.__xss = 2; alert(2)"> يتسع لأربع حارات.\n'
    "وللتفاصيل عن جسر الياسمين [اضغط هنا](javascript:window.__xss=3;alert(3)) وزوروا موقع البلدية.\n"
)


@dataclass
class Site:
    server: Server
    workdir: Path
    corpus: Path
    index: Path
    browser: Browser
    timings: dict[str, float] = field(default_factory=dict)


def _articles(site: Site) -> int:
    """How many articles the server has now: the tests share one server, in any order."""
    return int(httpx.get(f"{site.server.url}/healthz", timeout=30).json()["articles"])


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def _open(site: Site, locale: str) -> tuple[Page, list[str]]:
    """A fresh page on the site; returns it with the list that collects any JS dialog."""
    page = site.browser.new_page(locale=locale, viewport={"width": 1280, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    site.server.wait_listening()
    page.goto(site.server.url + "/")
    page.wait_for_selector(".nqa-status.nqa-ready", timeout=TIMEOUT_MS)
    return page, dialogs


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    workdir = tmp_path_factory.mktemp("web")
    corpus, index = copy_seeds(workdir / "corpus"), workdir / "index"
    server = start_server(workdir, corpus, index)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        site = Site(server, workdir, corpus, index, browser)
        try:
            site.timings["cold_listening_s"] = server.wait_listening()
            page = browser.new_page(locale="ar", viewport={"width": 1280, "height": 1000})
            page.goto(server.url + "/")
            page.wait_for_selector(".nqa-status", timeout=TIMEOUT_MS)
            site.timings["cold_page_shown_s"] = time.perf_counter() - server.started
            site.timings["cold_page_showed_progress"] = float(page.locator(".nqa-status.nqa-building").count())
            _shot(page, "01-cold-start-building")
            page.wait_for_selector(".nqa-status.nqa-ready", timeout=240_000)
            site.timings["cold_usable_s"] = time.perf_counter() - server.started
            page.close()
            yield site
        finally:
            browser.close()
            site.server.stop()


def _restart(site: Site, extra_env: dict[str, str] | None = None) -> None:
    """A new server process on the same corpus and (already built) index."""
    site.server.stop()
    site.server = start_server(site.workdir, site.corpus, site.index, extra_env)


class _Paced:
    """A socket writer that pauses before each streamed event, like a real LLM between tokens."""

    def __init__(self, inner, pause_s: float) -> None:
        self._inner, self._pause_s = inner, pause_s

    def write(self, data: bytes) -> int:
        if data.startswith(b"data: "):
            time.sleep(self._pause_s)
        return self._inner.write(data)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class PacedOpenAI(FakeOpenAI):
    """The shared fake OpenAI server, streaming its tokens 0.15 s apart."""

    def _handler(self):
        class Handler(super()._handler()):
            def setup(self) -> None:
                super().setup()
                self.wfile = _Paced(self.wfile, 0.15)

        return Handler


def _ask(page: Page, question: str) -> tuple[Locator, float, float]:
    """Ask and wait for the complete answer; returns it, seconds to first text and to the end."""
    done_before = page.locator(".nqa-mode").count()
    page.fill("#nqa-question textarea", question)
    started = time.perf_counter()
    page.press("#nqa-question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.nqa-streaming').length > 0"
        " || document.querySelectorAll('.nqa-mode').length > n",
        arg=done_before,
        timeout=TIMEOUT_MS,
        polling="raf",
    )
    first = time.perf_counter() - started
    page.wait_for_function(
        "n => document.querySelectorAll('.nqa-mode').length > n", arg=done_before, timeout=TIMEOUT_MS, polling="raf"
    )
    full = time.perf_counter() - started
    return page.locator(".nqa-answer:not(.nqa-streaming)").last, first, full


def _direction(locator: Locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).direction")


def _upload(page: Page, files: list[Path], button_label: str) -> Locator:
    page.get_by_text(button_label, exact=True).first.click()  # open the accordion
    page.set_input_files("#nqa-upload input[type=file]", [str(f) for f in files])
    for f in files:
        page.locator("#nqa-upload").get_by_text(f.stem, exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.click("#nqa-upload-btn")
    result = page.locator("#nqa-upload-result .nqa-upload-result")
    result.wait_for(timeout=TIMEOUT_MS)
    return result


def test_arabic_question_gets_a_cited_right_to_left_answer(site: Site) -> None:
    page, dialogs = _open(site, "ar")
    answer, first, full = _ask(page, ARCTIC)
    site.timings["arabic_first_text_s"], site.timings["arabic_full_answer_s"] = first, full

    assert _direction(answer) == "rtl"
    assert _direction(page.locator(".nqa-q").last) == "rtl"
    assert "حارس القطب الشمالي" in answer.locator(".nqa-text").inner_text()
    assert "لا يوجد نموذج لغوي" in answer.locator(".nqa-mode").inner_text()  # extractive, labelled so
    card = answer.locator(".nqa-card").first
    assert card.is_visible()
    assert "حارس القطب الشمالي" in card.locator("mark").first.inner_text()  # the cited sentence is highlighted
    assert ".txt" in card.locator(".nqa-file").inner_text()
    link = answer.locator("a.nqa-ref").first
    assert link.get_attribute("href") == "#" + card.get_attribute("id")
    status = page.locator("#nqa-status").inner_text()
    assert f"{_articles(site)} مقالات" in status and "وضع الاقتباس" in status
    _shot(page, "02-arabic-answer")

    link.click()  # [1] leads to its card
    page.wait_for_function("id => document.getElementById(id).classList.contains('nqa-flash')", arg=card.get_attribute("id"))
    assert dialogs == []

    page.locator("#nqa-lang").get_by_text("English").click()  # the labels switch, the chat stays
    page.wait_for_function("() => document.querySelector('#nqa-header').innerText.includes('News Q&A')")
    assert f"{_articles(site)} articles" in page.locator("#nqa-status").inner_text()
    assert page.locator("#nqa-send").inner_text().strip() == "Ask"
    assert page.locator(".nqa-card").count() >= 1


def test_follow_up_uses_the_conversation_and_new_chat_clears_it(site: Site) -> None:
    page, _ = _open(site, "ar")
    _ask(page, ARCTIC)
    followed, _, _ = _ask(page, FOLLOW_UP)
    assert followed.locator(".nqa-notfound").count() == 0
    assert "حارس القطب الشمالي" in followed.locator(".nqa-text").inner_text()
    _shot(page, "03-follow-up")

    page.click("#nqa-new")
    page.wait_for_function("() => document.querySelectorAll('.nqa-answer').length === 0")
    alone, _, _ = _ask(page, FOLLOW_UP)
    assert alone.locator(".nqa-notfound").is_visible()  # says plainly the articles don't cover it
    assert alone.locator(".nqa-card").count() == 0


def test_uploaded_article_is_searchable_at_once_and_a_bad_file_is_explained(site: Site, tmp_path: Path) -> None:
    page, _ = _open(site, "ar")
    before = _articles(site)
    good = tmp_path / "مكتبة وادي الريحان.txt"
    good.write_text(UPLOADED, encoding="utf-8")
    empty = tmp_path / "فارغ.txt"
    empty.write_text("  \n", encoding="utf-8")

    result = _upload(page, [good, empty], "إضافة مقالات")
    text = result.inner_text()
    assert "مكتبة وادي الريحان.txt" in text and "فارغ.txt" in text and "empty" in text
    page.wait_for_function(f"() => document.querySelector('#nqa-status').innerText.includes('{before + 1} مقالات')")
    assert (site.corpus / good.name).read_text(encoding="utf-8") == UPLOADED
    assert not (site.corpus / empty.name).exists()
    _shot(page, "04-upload")

    answer, _, _ = _ask(page, "كم كتابًا تضم المكتبة العامة الجديدة في وادي الريحان؟")
    assert answer.locator(".nqa-file").first.inner_text() == good.name
    assert "اثني عشر ألف كتاب" in answer.locator(".nqa-text").inner_text()
    _shot(page, "05-answer-from-upload")


def test_english_question_and_thumbs_up_is_recorded(site: Site) -> None:
    page, _ = _open(site, "en-US")
    assert "articles" in page.locator("#nqa-status").inner_text()  # English labels
    answer, first, full = _ask(page, ENGLISH)
    site.timings["english_first_text_s"], site.timings["english_full_answer_s"] = first, full

    assert _direction(page.locator(".nqa-q").last) == "ltr"
    assert _direction(answer.locator(".nqa-mode")) == "ltr"  # English label inside an Arabic quote
    assert answer.locator(".nqa-sources-h").inner_text() == "Sources"
    assert "روسيا" in answer.locator(".nqa-text").inner_text()
    _shot(page, "06-english-answer")

    page.locator("button[aria-label='Like']").last.click()
    feedback = site.workdir / "feedback.jsonl"
    deadline = time.time() + 30
    while not read_feedback(feedback):
        assert time.time() < deadline, "no feedback line written"
        time.sleep(0.1)
    vote = read_feedback(feedback)[-1]
    assert (vote["rating"], vote["channel"], vote["question"]) == ("up", "web", ENGLISH)
    assert vote["mode"] == "extractive" and vote["citations"]


def test_hostile_article_cannot_run_script_in_the_page(site: Site, tmp_path: Path) -> None:
    page, dialogs = _open(site, "ar")
    page.evaluate("() => { window.__xss = undefined; }")
    hostile = tmp_path / "جسر.txt"
    hostile.write_text(HOSTILE, encoding="utf-8")
    named = tmp_path / "x<img src=y onerror=alert(9)>.md"
    named.write_text("# <img src=z onerror=alert(10)>\n\n" + HOSTILE, encoding="utf-8")

    result = _upload(page, [hostile, named], "إضافة مقالات")
    assert "جسر.txt" in result.inner_text()
    answer, _, _ = _ask(page, "ماذا افتتحت بلدية مدينة النخيل فوق النهر؟")
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    _shot(page, "07-hostile-article")

    cards = answer.locator(".nqa-sources").inner_text()
    assert "<script>" in cards or "onerror" in cards  # shown as text, not dropped or run
    assert dialogs == []
    assert page.evaluate("() => window.__xss") is None
    for selector in ("#nqa-chat script", "img[onerror]", "[onerror]", "a[href^='javascript']", "#nqa-upload-result img"):
        assert page.locator(selector).count() == 0, selector
    page.get_by_text("اضغط هنا").first.click()
    page.wait_for_timeout(300)
    assert dialogs == [] and page.evaluate("() => window.__xss") is None


def test_a_too_long_question_is_explained_and_kept(site: Site) -> None:
    page, _ = _open(site, "en-US")
    question = "Why? " * 300  # over the 1000-character limit
    page.fill("#nqa-question textarea", question)
    page.press("#nqa-question textarea", "Enter")
    page.get_by_text("the limit is 1000").first.wait_for(timeout=TIMEOUT_MS)  # a toast says why
    assert page.input_value("#nqa-question textarea") == question  # nothing lost
    assert page.locator(".nqa-q").count() == 0 and page.locator(".nqa-answer").count() == 0
    _shot(page, "09-too-long")


def test_ten_people_asking_at_once_all_get_answers(site: Site) -> None:
    pages = [_open(site, "ar")[0] for _ in range(10)]
    questions = [ARCTIC, FOLLOW_UP] * 5
    for page, question in zip(pages, questions):
        page.fill("#nqa-question textarea", question)
    for page in pages:  # all submitted before any answer is awaited
        page.press("#nqa-question textarea", "Enter")
    for page, question in zip(pages, questions):
        page.wait_for_selector(".nqa-mode", timeout=TIMEOUT_MS)
        assert page.locator(".nqa-q").inner_text().strip() == question.strip()
        assert page.locator(".nqa-answer").count() == 1
        page.close()


def test_llm_mode_streams_the_answer_token_by_token(site: Site) -> None:
    fake = PacedOpenAI().start()
    try:
        _restart(site, {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url, "NEWSQA_LLM_TIMEOUT": "10"})
        page, dialogs = _open(site, "ar")
        assert "gpt-4o-mini" in page.locator("#nqa-status").inner_text()
        # Record every partial answer the page shows while the answer streams in.
        page.evaluate(
            """() => {
                window.__partials = [];
                new MutationObserver(() => {
                    const s = document.querySelector('.nqa-streaming');
                    if (s && window.__partials.at(-1) !== s.innerText) window.__partials.push(s.innerText);
                }).observe(document.body, {subtree: true, childList: true, characterData: true});
            }"""
        )
        answer, first, full = _ask(page, ARCTIC)
        site.timings["llm_first_token_s"], site.timings["llm_full_answer_s"] = first, full
        partials = page.evaluate("() => window.__partials")
        _shot(page, "08-llm-answer")

        assert len(partials) >= 3, partials
        assert all(b.startswith(a.strip()) for a, b in zip(partials, partials[1:])), partials  # each adds tokens
        assert "gpt-4o-mini" in answer.locator(".nqa-mode").inner_text()
        assert answer.locator(".nqa-card").count() >= 1 and answer.locator("a.nqa-ref").count() >= 1
        assert _direction(answer) == "rtl"
        assert dialogs == []
    finally:
        fake.stop()
        _restart(site)  # back to the default extractive mode for any test after this one
        site.server.wait_ready()


def test_restart_with_an_existing_index_and_report_timings(site: Site) -> None:
    """Restarts the server on the index built above and writes the measured figures."""
    _restart(site)
    site.timings["warm_listening_s"] = site.server.wait_listening()
    page, _ = _open(site, "ar")
    site.timings["warm_usable_s"] = time.perf_counter() - site.server.started
    _, _, full = _ask(page, ARCTIC)
    site.timings["warm_first_answer_s"] = full
    page.close()

    ARTIFACTS.mkdir(exist_ok=True)
    report = {k: round(v, 3) for k, v in site.timings.items()}
    (ARTIFACTS / "web-timings.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\nweb timings (s):", json.dumps(report, indent=2))
    assert site.timings["cold_page_showed_progress"] == 1.0  # a progress line, not a frozen page
    # A warm start opens the index it finds; only the first start built it (the timings above show the cost).
    log = site.server.log.read_text(encoding="utf-8")
    assert "[index] ready" in log and "building the index" not in log and "passages embedded" not in log
