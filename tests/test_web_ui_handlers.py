"""The chat page's event handlers called directly, without a browser or a server.

`ChatUI`'s methods are what Gradio runs for each event; here they run on the
real session engine over the seed articles (real embedder, index and answers),
so what they return is what the page would show. Outside a Gradio event,
`gr.Warning` becomes a Python warning and `gr.Info` a printed line.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from app.config import Settings
from app.engine import Engine
from app.feedback import read_feedback
from app.interfaces.service import Service
from app.interfaces.web_ui import ChatUI, esc, labels, render_answer
from app.text.arabic import detect_language, text_direction
from tests.conftest import SEEDS, make_settings
from tests.fake_openai import FakeOpenAI
from tests.web_helpers import visible_text

ARCTIC = "ما هي مبادرة حارس القطب الشمالي؟"
ENGLISH = "What did Rutte say Russia must not do after the war ends?"
# Starts with Latin letters, so its first strong character is LTR, but it is an Arabic question.
MIXED = "Arctic Sentry: ما هي مبادرة حارس القطب الشمالي التي أطلقها الحلف؟"


def _ready_ui(settings: Settings, engine: Engine) -> ChatUI:
    service = Service(settings, engine)
    service.warm_up()  # the engine's index is built already: this only marks the service ready
    assert service.ready, service.progress
    return ChatUI(service)


@pytest.fixture
def ui(engine: Engine, tmp_path: Path) -> ChatUI:
    """The page's handlers on the session engine, with their own feedback file and corpus folder."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = engine.settings.model_copy(update={"feedback_file": tmp_path / "feedback.jsonl", "corpus_dir": corpus})
    return _ready_ui(settings, engine)


def shows_label(markup: str, template: str) -> bool:
    """Whether the page text shows every fixed part of a label template (its `{slots}` vary)."""
    text = visible_text(markup)
    return all(part.strip() in text for part in re.split(r"\{\w+\}", template))


def updates(ui: ChatUI, question: str, chat: list, turns: list, answers: dict, lang: str = "en") -> list[tuple]:
    """Each update `respond` yields, as the page receives it at that moment.

    `respond` edits one chat list as the answer streams in, and Gradio sends each
    state as it is yielded, so each is copied here when it comes.
    """
    return [(list(chat), *rest) for chat, *rest in ui.respond(question, chat, turns, answers, lang)]


def ask(ui: ChatUI, question: str, lang: str = "en") -> list[tuple]:
    return updates(ui, question, [], [], {}, lang)


# --- respond ----------------------------------------------------------------------------------


def test_a_seed_question_shows_the_question_then_a_cited_answer(ui: ChatUI) -> None:
    steps = ask(ui, ARCTIC, "en")  # the switch's language does not matter: the question's does
    assert len(steps) >= 2
    pending, box, turns, answers = steps[0]
    assert box == ""  # the box is cleared at once
    assert [m["role"] for m in pending] == ["user", "assistant"]
    assert ARCTIC in visible_text(pending[0]["content"]) and 'dir="rtl"' in pending[0]["content"]
    assert labels()["ar"]["thinking"] in visible_text(pending[1]["content"])
    assert (turns, answers) == ([], {})

    chat, box, turns, answers = steps[-1]
    final = chat[-1]["content"]
    assert len(chat) == 2 and chat[0] == pending[0]
    assert 'class="nqa-answer" dir="rtl"' in final and "حارس القطب الشمالي" in visible_text(final)
    assert labels()["ar"]["sources"] in visible_text(final)  # Arabic labels for an Arabic question
    assert labels()["ar"]["answer_extractive"] in visible_text(final)
    card = re.search(r'<div class="nqa-card" id="([^"]+)"', final)
    assert card and f'<a class="nqa-ref" href="#{card.group(1)}">' in final  # [n] leads to its card
    assert "<mark>" in final  # the quoted sentence is highlighted in its card
    assert box == gr.skip()  # the box as the person left it meanwhile
    assert [t["role"] for t in turns] == ["user", "assistant"] and turns[0]["content"] == ARCTIC
    assert list(answers) == ["1"]  # the answer's chat position, for its thumbs
    record = answers["1"]
    assert record["id"] and record["question"] == ARCTIC and record["found"] and "[1]" in record["answer"]


def test_the_passages_not_cited_are_shown_under_also_consulted(ui: ChatUI) -> None:
    answer = ui.service.engine.answer(ARCTIC)
    uncited = [p for p in answer.passages if p.cited is None]
    assert answer.found and uncited, "the seed question retrieves more passages than it cites"
    final = render_answer(answer)
    consulted = re.search(r'<details class="nqa-consulted">(.*?)</details>', final, re.S)
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", final, re.S)
    expected = labels()["ar"]["consulted"].format(count=len(uncited))  # Arabic labels for an Arabic question
    assert consulted and summary and "".join(visible_text(summary.group(1)).split()) == "".join(expected.split())
    assert consulted.group(1).count('class="nqa-consulted-item"') == len(uncited)
    for passage in answer.passages:  # each uncited passage's opening is there; no cited one's is
        opening = visible_text(passage.text[:60])
        assert (opening in visible_text(consulted.group(1))) == (passage.cited is None)


def test_the_short_answer_comes_first_in_bold_in_its_own_direction(ui: ChatUI) -> None:
    answer = ui.service.engine.answer(ARCTIC)
    assert answer.found and answer.short_answer
    final = ask(ui, ARCTIC)[-1][0][-1]["content"]
    short = re.search(r'<div class="nqa-short" dir="(\w+)"><strong>(.*?)</strong></div>', final, re.S)
    assert short and short.group(1) == "rtl" and visible_text(short.group(2)) == visible_text(answer.short_answer)
    assert short.start() < final.index('class="nqa-text"')  # above the quoted proof
    why = ui.service.engine.answer("لماذا دعا روته إلى تعزيز التعاون مع الصناعات الدفاعية؟")
    assert why.found and "nqa-short" not in render_answer(why)  # an explanation has no short answer


def test_the_answer_is_labelled_in_the_language_the_question_is_written_in(ui: ChatUI) -> None:
    # The first strong character is Latin, the question is Arabic: labels follow the letters counted.
    assert text_direction(MIXED) == "ltr" and detect_language(MIXED) == "ar"
    steps = ask(ui, MIXED, "en")
    assert labels()["ar"]["thinking"] in visible_text(steps[0][0][1]["content"])
    final = visible_text(steps[-1][0][-1]["content"])
    assert labels()["ar"]["answer_extractive"] in final
    assert labels()["en"]["answer_extractive"] not in final

    english = visible_text(ask(ui, ENGLISH, "ar")[-1][0][-1]["content"])
    assert labels()["en"]["answer_extractive"] in english and labels()["en"]["sources"] in english


def test_a_follow_up_keeps_the_conversation_and_only_the_turns_the_engine_uses(ui: ChatUI) -> None:
    chat, _, turns, answers = ask(ui, ARCTIC)[-1]
    for _ in range(5):  # more turns than max_history_turns
        chat, _, turns, answers = updates(ui, ENGLISH, chat, turns, answers)[-1]
    assert len(chat) == 12 and sorted(answers, key=int) == [str(n) for n in range(1, 12, 2)]
    assert len(turns) == ui.settings.max_history_turns == 6
    assert turns[-2]["content"] == ENGLISH


def test_an_empty_question_does_nothing(ui: ChatUI) -> None:
    assert ask(ui, "") == []
    assert ask(ui, " \n\t ") == []


def test_the_period_chosen_limits_the_answer_and_a_bad_date_is_explained(ui: ChatUI) -> None:
    steps = [(list(chat), *rest) for chat, *rest in ui.respond(ARCTIC, [], [], {}, "ar", "2025-10", "2025-10", [])]
    record = steps[-1][3]["1"]
    assert record["passages"] and {p["date"] for p in record["passages"]} == {"2025-10-15"}
    with pytest.warns(UserWarning, match="since"):
        chat, box, _, _ = list(ui.respond(ARCTIC, [], [], {}, "ar", "2025-13", "", []))[-1]
    assert chat == [] and box == ARCTIC


def test_an_over_long_question_is_explained_and_given_back(ui: ChatUI) -> None:
    question = "س" * (ui.settings.max_question_chars + 1)
    earlier = [{"role": "user", "content": "earlier"}]
    with pytest.warns(UserWarning, match=f"the limit is {ui.settings.max_question_chars}"):
        chat, box, turns, answers = updates(ui, question, earlier, [], {})[-1]
    assert chat == earlier  # the pending line is taken back
    assert box == question  # nothing lost: the question goes back in the box
    assert (turns, answers) == ([], {})


def test_a_question_with_a_lone_surrogate_is_answered(ui: ChatUI) -> None:
    chat = ask(ui, "Who hosted the forum?\ud800")[-1][0]
    text = json.dumps(chat)  # would raise on a lone surrogate left in
    assert "Who hosted the forum?" in visible_text(chat[0]["content"]) and "nqa-mode" in text


def test_an_engine_failure_is_shown_by_its_type_only(ui: ChatUI, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(question: str, history: Any, filters: Any):
        raise OSError("/srv/secret/index is unreadable")
        yield  # a generator, like the engine's stream

    monkeypatch.setattr(ui.service.engine, "stream", broken)
    chat, box, _, _ = ask(ui, ENGLISH)[-1]
    assert shows_label(chat[-1]["content"], labels()["en"]["error"]) and "OSError" in visible_text(chat[-1]["content"])
    assert "/srv/secret" not in chat[-1]["content"]
    assert box == ENGLISH


def test_nothing_is_answered_before_the_index_is_ready(engine: Engine) -> None:
    ui = ChatUI(Service(engine.settings, engine))  # never warmed up
    with pytest.raises(gr.Error, match=re.escape(labels()["ar"]["not_ready"])):
        ask(ui, ARCTIC, "ar")
    with pytest.raises(gr.Error, match=re.escape(labels()["en"]["not_ready"])):
        ui.upload([{"path": "/etc/hostname"}], "en")


def test_llm_mode_streams_the_answer_as_it_is_written(engine: Engine, tmp_path: Path) -> None:
    fake = FakeOpenAI().start()
    settings = make_settings(corpus_dir=engine.settings.corpus_dir, index_dir=engine.settings.index_dir,
                             feedback_file=tmp_path / "feedback.jsonl", openai_api_key="sk-test",
                             openai_base_url=fake.base_url, llm_retries=0)
    try:
        steps = ask(_ready_ui(settings, Engine(settings)), ARCTIC, "ar")
    finally:
        fake.stop()
    streamed = [chat[-1]["content"] for chat, *_ in steps[1:-1]]
    assert len(streamed) >= 2 and all("nqa-streaming" in part for part in streamed)
    assert len(visible_text(streamed[-1])) > len(visible_text(streamed[0]))  # the text grows
    final = steps[-1][0][-1]["content"]
    assert "nqa-streaming" not in final and "nqa-card" in final
    assert shows_label(final, labels()["ar"]["answer_llm"]) and settings.llm_model in visible_text(final)


# --- vote --------------------------------------------------------------------------------------


def test_a_vote_is_recorded_once_and_a_change_replaces_it(ui: ChatUI, capsys: pytest.CaptureFixture) -> None:
    chat, _, _, answers = ask(ui, ENGLISH)[-1]
    visitor = gr.Request(session_hash="visitor-1")
    up = gr.LikeData(None, {"index": 1, "value": chat[1]["content"], "liked": True})
    ui.vote(answers, "en", up, visitor)
    ui.vote(answers, "en", up, visitor)  # the same vote again: nothing new
    feedback = ui.settings.feedback_file
    assert len(feedback.read_text(encoding="utf-8").splitlines()) == 1
    assert labels()["en"]["feedback_thanks"] in capsys.readouterr().out
    [vote] = read_feedback(feedback)
    assert (vote["rating"], vote["channel"], vote["question"]) == ("up", "web", ENGLISH)
    assert vote["answer"] == answers["1"]["answer"] and "visitor-1" not in feedback.read_text(encoding="utf-8")

    down = gr.LikeData(None, {"index": 1, "value": chat[1]["content"], "liked": False})
    ui.vote(answers, "en", down, visitor)  # changes their mind
    assert [v["rating"] for v in read_feedback(feedback)] == ["down"]
    ui.vote(answers, "en", up, gr.Request(session_hash="visitor-2"))  # someone else
    assert sorted(v["rating"] for v in read_feedback(feedback)) == ["down", "up"]


def test_a_vote_on_a_question_or_an_unknown_message_records_nothing(ui: ChatUI) -> None:
    chat, _, _, answers = ask(ui, ENGLISH)[-1]
    visitor = gr.Request(session_hash="visitor-1")
    for index in (0, 7, [0, 1]):  # the question itself, no such message, a question's part
        ui.vote(answers, "en", gr.LikeData(None, {"index": index, "value": "", "liked": True}), visitor)
    assert not ui.settings.feedback_file.exists()


# --- relabel and the first load ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_relabel_puts_every_label_in_the_chosen_language(ui: ChatUI, lang: str) -> None:
    text = labels()[lang]
    direction = "rtl" if lang == "ar" else "ltr"
    (header, status, chatbot, question, send, new_chat, box, help_, files, upload_btn, dataset,
     period, since, until, publishers) = ui.relabel(lang)
    assert f'dir="{direction}"' in header and esc(text["title"]) in header
    assert 'href="docs"' in header and esc(text["api_docs"]) in header
    assert f'dir="{direction}"' in status and "nqa-ready" in status
    assert "5" in visible_text(status)  # the seed articles
    assert chatbot.label == text["chat_label"]
    expected = (text["question_label"], text["question_placeholder"], lang == "ar")
    assert (question.label, question.placeholder, question.rtl) == expected
    assert (send.value, new_chat.value, upload_btn.value) == (text["send"], text["new_chat"], text["upload_button"])
    assert (box.label, files.label, dataset.label) == (text["upload_title"], text["upload_files"], text["examples"])
    assert shows_label(help_, text["upload_help"]) and str(ui.settings.max_upload_files) in visible_text(help_)
    assert (period.label, since.label, until.label, publishers.label) == (
        text["period_title"], text["since"], text["until"], text["publishers"])
    assert publishers.visible is False  # the seeds name no publisher: nothing to choose


def test_the_first_load_follows_the_browsers_language(ui: ChatUI) -> None:
    arabic = ui.on_load(gr.Request(headers={"accept-language": "ar-EG,ar;q=0.9,en;q=0.8"}))
    english = ui.on_load(gr.Request(headers={"accept-language": "fr-FR,en;q=0.5"}))
    assert arabic[0] == "ar" and english[0] == "en"
    assert esc(labels()["ar"]["title"]) in arabic[1] and esc(labels()["en"]["title"]) in english[1]


# --- upload ------------------------------------------------------------------------------------


def test_an_upload_naming_a_file_outside_the_upload_folder_is_refused(ui: ChatUI, tmp_path: Path) -> None:
    seed = sorted(SEEDS.iterdir())[0]
    outside = tmp_path / "elsewhere" / "library.txt"
    outside.parent.mkdir()
    shutil.copy(seed, outside)  # a good article, just not received through the upload
    assert not outside.resolve().is_relative_to(ui.inbox.resolve())
    before = ui.service.status()["articles"]

    result, files, status = ui.upload([{"path": str(outside)}], "en")

    shown = visible_text(result)
    assert "nqa-failed" in result and labels()["en"]["upload_rejected"] in shown
    assert "library.txt" in shown and "not received through the upload" in shown
    assert str(outside.parent) not in result  # a file's name, never a server folder
    assert files is None  # the file box is emptied
    assert "nqa-ready" in status
    assert outside.read_bytes() == seed.read_bytes()  # not ours to delete either
    assert list(ui.settings.corpus_dir.iterdir()) == []
    assert ui.service.status()["articles"] == before


def test_an_upload_of_nothing_asks_for_files(ui: ChatUI) -> None:
    for nothing in (None, []):
        result, files, status = ui.upload(nothing, "ar")
        assert labels()["ar"]["upload_none"] in visible_text(result) and "nqa-failed" in result
        assert files == status == gr.skip()  # the file box and status line stay as they are


def test_a_question_sent_while_an_answer_is_closing_waits_instead_of_being_dropped(ui: ChatUI) -> None:
    config = ui.build().get_config_file()
    asking = [d for d in config["dependencies"] if any(event == "submit" for _, event in d["targets"])]
    assert asking and all(d["trigger_mode"] == "always_last" for d in asking)
