"""`python -m app eval` end to end on a small index: real engine, real Chroma, real reports."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.answer import short_answer
from app.config import PROJECT_ROOT, Settings
from app.engine import Engine
from app.evaluation.report import ALL_METRICS, IN_SAMPLE, SQUAD_ANSWERS, SQUAD_RETRIEVAL, console_report, render_html
from app.evaluation.runner import main
from app.evaluation.scoring import summarize
from tests.conftest import SHARED_DATA, make_settings
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.slow  # starts servers or builds its own index

QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("eval")
    return make_settings(index_dir=root / "index", feedback_file=root / "feedback.jsonl")


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def report(out: Path) -> dict:
    return json.loads((out / "eval.json").read_text(encoding="utf-8"))


def test_limited_run_scores_writes_reports_and_passes_its_gates(settings, tmp_path, capsys):
    gates = write_json(tmp_path / "t.json", {"extractive": {"overall": {"hit@5": {"min": 0.5}, "errors": {"max": 0}}}})
    out = tmp_path / "out"
    code = main(["--mode", "extractive", "--limit", "6", "--out", str(out), "--thresholds", str(gates)], settings)
    assert code == 0, capsys.readouterr()
    result = report(out)
    (run,) = result["runs"]
    assert run["label"] == "extractive/hybrid" and run["stats"]["articles"] == 5
    assert len(run["records"]) == 6 and run["summary"]["overall"]["questions"] == 6
    for record in run["records"]:
        assert record["answer"]["id"] == record["id"]
        assert record["hit@1"] == float(record["ranked_sources"][0] in record["sources"])
        assert record["correct"] == (not record["refused"] and all(f["in_answer"] for f in record["facts"]))
    assert [g["passed"] for g in result["gates"]] == [True, True]
    page = (out / "eval.html").read_text(encoding="utf-8")
    assert "<svg" in page and 'dir="auto"' in page
    assert "<script" not in page and "src=" not in page and "<link" not in page  # self-contained
    printed = capsys.readouterr().out
    assert "fact accuracy" in printed and "PASS" in printed


def test_a_failed_gate_exits_1(settings, tmp_path, capsys):
    gates = write_json(tmp_path / "t.json", {"extractive": {"en": {"latency_p95_ms": {"max": 0.001}}}})
    out = tmp_path / "out"
    assert main(["--mode", "extractive", "--limit", "3", "--out", str(out), "--thresholds", str(gates)], settings) == 1
    assert "FAIL" in capsys.readouterr().out
    assert report(out)["gates"][0]["passed"] is False


def test_follow_up_gets_the_previous_turn_as_history(settings, tmp_path):
    lines = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    follow_up = next(q for q in lines if q.get("follows"))
    parent = next(q for q in lines if q["id"] == follow_up["follows"])
    path = tmp_path / "pair.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in (parent, follow_up)), encoding="utf-8")
    out = tmp_path / "out"
    assert main([str(path), "--mode", "extractive", "--out", str(out)], settings) == 0
    first, second = report(out)["runs"][0]["records"]
    assert first["history"] == []
    assert second["history"] == [{"role": "user", "content": parent["question"]},
                                 {"role": "assistant", "content": first["answer"]["answer"]}]


def test_compare_configurations_and_a_baseline(settings, tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    args = ["--mode", "extractive", "--limit", "4", "--compare", "dense", "bm25"]
    assert main(args + ["--out", str(first)], settings) == 0
    assert [r["label"] for r in report(first)["runs"]] == ["extractive/dense", "extractive/bm25"]
    baseline = report(first)
    # Pretend every question passed last time, so any failure now shows as a regression.
    for run in baseline["runs"]:
        for record in run["records"]:
            record["correct"] = True
        run["summary"]["overall"]["fact_accuracy"] = 1.0
    previous = write_json(tmp_path / "prev.json", baseline)
    capsys.readouterr()
    assert main(args + ["--out", str(second), "--baseline", str(previous)], settings) == 0
    comparison = report(second)["comparison"]
    now = report(second)["runs"][0]
    failing = [r["id"] for r in now["records"] if not r["correct"]]
    assert comparison["runs"][0]["newly_failing"] == failing
    if now["summary"]["overall"]["fact_accuracy"] < 1.0:
        assert any(d["metric"] == "fact_accuracy" and d["worse"] for d in comparison["runs"][0]["groups"]["overall"])
    assert "compared with the run of" in capsys.readouterr().out
    assert "Since the run of" in (second / "eval.html").read_text(encoding="utf-8")


def test_squad_set_in_a_separate_collection(settings, tmp_path):
    paragraphs = [
        ("جمال خاشقجي صحفي سعودي ولد في المدينة المنورة عام 1958 وعمل مديرا لقناة العرب الإخبارية.",
         "أين ولد جمال خاشقجي؟", "المدينة المنورة"),
        ("نهر النيل أطول أنهار العالم ويمر في إحدى عشرة دولة أفريقية قبل أن يصب في البحر المتوسط.",
         "أين يصب نهر النيل؟", "البحر المتوسط"),
        ("برج خليفة في دبي هو أعلى مبنى في العالم ويبلغ ارتفاعه 828 مترا وافتتح عام 2010.",
         "كم يبلغ ارتفاع برج خليفة؟", "828 مترا"),
    ]
    squad = write_json(tmp_path / "squad.json", {"data": [{"title": "t", "paragraphs": [
        {"context": c, "qas": [{"id": str(i), "question": q, "answers": [{"text": a, "answer_start": 0}]}]}
        for i, (c, q, a) in enumerate(paragraphs)]}]})
    translations = tmp_path / "en.jsonl"
    translations.write_text(json.dumps({"id": "0", "question": "Where was Jamal Khashoggi born?"}) + "\n",
                            encoding="utf-8")
    gates = write_json(tmp_path / "gates.json", {"squad": {"hybrid": {"hit@1": {"min": 1.0}},
                                                          "translated_hybrid": {"hit@1": {"min": 1.0}}}})
    out = tmp_path / "out"
    assert main(["--mode", "extractive", "--limit", "1", "--out", str(out), "--squad", str(squad),
                 "--squad-translations", str(translations), "--thresholds", str(gates)], settings) == 0
    result = report(out)["squad"]
    # The English question is asked on the same paragraphs, and summed up beside the Arabic one.
    translated = result["translated"]
    assert translated["questions"] == 1 and translated["original"]["questions"] == 1
    assert translated["records"][0]["question"] == "Where was Jamal Khashoggi born?"
    assert translated["records"][0]["gold"] == ["p0000"] and translated["records"][0]["hybrid"]["hit@1"] == 1.0
    assert [(g["scope"], g["passed"]) for g in report(out)["gates"]] == [("squad hybrid", True),
                                                                         ("squad translated_hybrid", True)]
    assert "translated questions" in (out / "eval.html").read_text(encoding="utf-8")
    assert result["paragraphs"] == 3 and result["questions"] == 1 and result["errors"] == 0
    # The short-answer ranker was not trained on this file, so its figures are not flagged in-sample.
    assert result["short_answer_in_sample"] is False
    assert "in-sample" not in (out / "eval.html").read_text(encoding="utf-8")
    assert set(result["retrieval"]) == {"dense", "bm25", "hybrid"}
    record = result["records"][0]
    assert record["gold"] == ["p0000"]
    assert 0.0 <= record["f1"] <= 1.0 and record["em"] <= record["f1"] + 1e-9
    # Asked again with its paragraph left out, only unrelated ones remain: "not found" is right.
    assert record["found"] and record["absent_refused"] is True
    assert result["answers"]["absent_refused"] == 1.0
    # The seed index is untouched: the paragraphs live in their own folder under the index dir.
    assert list(settings.index_dir.glob("squad-*/corpus/p0002.txt"))


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--mode", "llm"], None, "OPENAI_API_KEY"),
        (["--limit", "0"], None, "--limit must be at least 1"),
        (["--compare", "fast"], None, "expected MODE/RETRIEVAL"),
        (["--thresholds", "{T}"], {"extractive": {"overall": {"speed": {"min": 1}}}}, "unknown metric 'speed'"),
        (["--thresholds", "{T}"], {"extractive": {"overall": {"hit@1": 0.5}}}, 'expected {"min": x}'),
        (["--thresholds", "{T}"], {"extractive": {"tag:nothing": {"hit@1": {"min": 0.1}}}}, "no group 'tag:nothing'"),
        (["--baseline", "{T}"], [1, 2], "not an eval.json"),
        # The files are checked before the engine starts: unknown names and wrong types are named.
        (["--thresholds", "{T}"], {"squad": {"hybrid": {"f1": {"min": 0.1}}}}, "'squad.hybrid' has an unknown metric 'f1'"),
        (["--thresholds", "{T}"], {"extractve": {}}, "unknown field(s): extractve"),
        (["--thresholds", "{T}"], {"llm": {"overall": {"hit@1": {"mim": 0.1}}}}, "unknown field(s): llm.overall.hit@1.mim"),
        (["--thresholds", "{T}"], {"extractive": {"overall": {"hit@1": {"min": "0.9"}}}},
         "'extractive.overall.hit@1.min' must be a number"),
        (["--baseline", "{T}"], {"runs": [], "run": []}, "unknown field(s): run"),
        (["--baseline", "{T}"], {"runs": [{"label": 1, "summary": {}, "records": []}]}, "'runs[0].label' must be a string"),
        (["--news-index", "{T}"], {}, "--news-index needs --news"),
        (["--squad-translations", "{T}"], {}, "--squad-translations needs --squad"),
        (["--news", "{T}", "--news-index", "{T}"], {}, "holds no index"),
    ],
)
def test_bad_configuration_exits_2(settings, tmp_path, capsys, args, content, message):
    target = write_json(tmp_path / "file.json", content)
    argv = [a.replace("{T}", str(target)) for a in args] + ["--out", str(tmp_path / "out")]
    if "--limit" not in argv:
        argv += ["--limit", "1"]
    assert main(argv, settings) == 2
    assert message in capsys.readouterr().err


def test_a_bad_thresholds_file_is_refused_before_the_engine_starts(tmp_path, capsys):
    gates = write_json(tmp_path / "t.json", {"extractive": {"overall": {"speed": {"min": 1}}}})
    unused = make_settings(index_dir=tmp_path / "index")
    assert main(["--mode", "extractive", "--thresholds", str(gates), "--out", str(tmp_path / "out")], unused) == 2
    assert f"{gates}: 'extractive.overall' has an unknown metric 'speed'" in capsys.readouterr().err
    assert not (tmp_path / "index").exists() and not (tmp_path / "out").exists()


def test_every_summary_metric_can_be_gated():
    """The thresholds file is checked against the report's metric names: they must be the summary's."""
    assert set(summarize([])) == {key for key, _ in ALL_METRICS}


def test_bad_question_file_exits_2_from_the_command_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "lang": "ar", "answerable": false, "sources": [], "facts": []}\n'
                   '{"id": "b", "question": \n', encoding="utf-8")
    env = {**os.environ, "NEWSQA_INDEX_DIR": str(tmp_path / "index")}
    done = subprocess.run([sys.executable, "-m", "app", "eval", str(bad), "--mode", "extractive"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert f"{bad}:2: invalid JSON" in done.stderr
    assert not (tmp_path / "index").exists()  # nothing was built for a run that could not start


class JudgingOpenAI(FakeOpenAI):
    """The test OpenAI server, also answering llama-index's judge prompts as a real model would."""

    def reply_for(self, prompt: str) -> str:
        if "expert evaluation system" in prompt:
            return "4.0\nThe answer states the expected fact."
        if "Please tell if a given piece of information" in prompt:
            return "YES"
        return super().reply_for(prompt)


def test_llm_mode_with_judges_against_a_local_openai_server(settings, tmp_path):
    server = JudgingOpenAI().start()
    try:
        llm = settings.model_copy(update={"openai_api_key": "sk-test", "openai_base_url": server.base_url,
                                          "llm_timeout": 5.0, "llm_retries": 0})
        out = tmp_path / "out"
        gates = write_json(tmp_path / "t.json", {"llm": {"overall": {"lang_match": {"min": 0.99}}},
                                                 "extractive": {"overall": {"hit@1": {"min": 1.1}}}})
        code = main(["--mode", "llm", "--limit", "4", "--judge", "--out", str(out), "--thresholds", str(gates)], llm)
    finally:
        server.stop()
    assert code == 0  # the extractive gate does not apply to an LLM-only run
    (run,) = report(out)["runs"]
    assert run["mode"] == "llm"
    assert all(r["answer"]["mode"] == "llm" and r["lang_match"] for r in run["records"])
    judged = [r["judge"] for r in run["records"] if "judge" in r]
    assert judged and all(j == {"faithful": True, "correctness": 4.0, "reason": "The answer states the expected fact."}
                          for j in judged)
    assert run["summary"]["overall"]["judge_correctness"] == 4.0


def test_news_set_on_its_own_index_with_its_own_today(settings, tmp_path, monkeypatch, capsys):
    """`--news`: the subset is copied out of the archives, indexed apart, and asked with the subset's
    `today`; the time groups are gated only then."""
    data = tmp_path / "news-ar"
    data.mkdir()
    stories = [("n1", "2015-07-25", "ارتفع عدد زوار معرض الكتاب في جدة إلى عشرة آلاف زائر في أسبوعه الأول."),
               ("n2", "2015-08-10", "ارتفع عدد زوار معرض الكتاب في جدة إلى ثلاثين ألف زائر قبل ختامه."),
               ("n3", "2015-08-10", "هطلت أمطار غزيرة على محافظة الطائف وحذر الدفاع المدني من السيول.")]
    (data / "a.jsonl").write_text("".join(json.dumps({"id": i, "title": "", "date": d, "text": t}, ensure_ascii=False)
                                          + "\n" for i, d, t in stories), encoding="utf-8")
    subset = write_json(tmp_path / "subset.json", {"today": "2015-08-11", "stories": {"book-fair": ["n1", "n2"],
                                                                                       "rain": ["n3"]}})
    monkeypatch.setattr("app.evaluation.news.NEWS_SUBSET", subset)
    lines = [{"id": "seed", "question": "في أي عاصمة عُقد منتدى صناعة الناتو؟", "lang": "ar", "answerable": True,
              "sources": ["000_47ab2c3c4cf385b6"], "facts": [["بوخارست"]]},
             {"id": "latest", "question": "ما آخر عدد لزوار معرض الكتاب في جدة؟", "lang": "ar", "answerable": True,
              "sources": ["n1", "n2"], "facts": [["ثلاثين ألف"]], "corpus": "news", "latest": "n2", "tags": ["latest"]},
             {"id": "july", "question": "How many visitors did the Jeddah book fair have in July 2015?", "lang": "en",
              "answerable": True, "sources": ["n1"], "facts": [["عشرة آلاف"]], "corpus": "news",
              "since": "2015-07", "until": "2015-07", "tags": ["absolute-month"]}]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines) + "\n", encoding="utf-8")
    gates = write_json(tmp_path / "t.json", {"extractive": {"time": {"errors": {"max": 0}, "questions": {"min": 3}}}})
    out = tmp_path / "out"
    args = [str(questions), "--mode", "extractive", "--thresholds", str(gates), "--out", str(out)]
    # Without the data the news questions are skipped, and so are the time gates (they would fail: 3 questions).
    assert main(args, settings) == 0
    assert report(out)["news_skipped"] == 2 and report(out)["gates"] == []
    assert "need --news" in capsys.readouterr().out
    assert main(args + ["--news", str(data)], settings) == 1  # the time group has 2 questions, not 3
    result = report(out)
    (run,) = result["runs"]
    assert result["news"]["today"] == "2015-08-11" and result["news"]["articles"] == 3
    assert run["news"]["stats"]["articles"] == 3 and run["stats"]["articles"] == 5  # the seed index is apart
    assert [(r["id"], r["corpus"], r["time_bound"]) for r in run["records"]] == [
        ("seed", "seeds", False), ("latest", "news", True), ("july", "news", True)]
    assert run["summary"]["overall"]["questions"] == 1 and run["summary"]["time"]["questions"] == 2
    assert [(g["metric"], g["passed"]) for g in result["gates"]] == [("errors", True), ("questions", False)]
    latest = run["records"][1]
    assert "latest_first" in latest and latest["answer"]["citations"]
    assert all(c["source"] in {"n1", "n2", "n3"} for c in latest["answer"]["citations"])

    # `--news-index`: the same questions asked among a whole archive's articles, on its index as it is.
    whole = tmp_path / "whole"
    shutil.copytree(data, whole)
    (whole / "b.jsonl").write_text(json.dumps({"id": "n4", "title": "", "date": "2015-08-09", "text": (
        "افتتح معرض الكتاب في الرياض أبوابه أمام الزوار وسط إقبال كبير.")}, ensure_ascii=False) + "\n", encoding="utf-8")
    archive_index = tmp_path / "archive-index"
    Engine(settings.model_copy(update={"corpus_dir": whole, "index_dir": archive_index})).ensure_ready()
    assert main(args + ["--news", str(data), "--news-index", str(archive_index)], settings) == 1
    result = report(out)
    (run,) = result["runs"]
    assert result["news"]["archive_index"] == str(archive_index) and run["news"]["stats"]["articles"] == 4
    assert run["news"]["ingest_errors"] == [] and run["summary"]["time"]["questions"] == 2
    assert run["records"][1]["answer"]["citations"]
    empty = tmp_path / "empty-index"
    (empty / "chroma").mkdir(parents=True)
    assert main(args + ["--news", str(data), "--news-index", str(empty)], settings) == 2
    assert "holds no article" in capsys.readouterr().err


def test_translated_squad_gates_apply_only_when_the_translations_were_asked():
    from app.evaluation.gates import Thresholds, check_gates

    retrieval = {mode: {"hit@1": 0.7} for mode in ("dense", "bm25", "hybrid")}
    squad = {"retrieval": retrieval, "answers": {"short_f1": 0.3}}
    gates = Thresholds.model_validate({"squad": {"hybrid": {"hit@1": {"min": 0.5}},
                                                 "translated_hybrid": {"hit@1": {"min": 0.5}}}})
    assert [g["scope"] for g in check_gates({"runs": [], "squad": squad}, gates)] == ["squad hybrid"]
    asked = {**squad, "translated": {"retrieval": {"hybrid": {"hit@1": 0.4}}, "answers": {}}}
    assert [(g["scope"], g["passed"]) for g in check_gates({"runs": [], "squad": asked}, gates)] == [
        ("squad hybrid", True), ("squad translated_hybrid", False)]


def test_short_answers_on_the_rankers_own_training_file_are_reported_as_in_sample():
    """ARCD trains the span ranker: scoring its short answers on ARCD is scoring on training questions,
    and the report says so rather than show the figure as a held-out one."""
    arcd = SHARED_DATA / "arcd" / "arcd-train.json"
    if not arcd.exists():
        pytest.skip("needs ../shared/data/arcd beside the repository")
    assert short_answer.model().trained_on == hashlib.sha256(arcd.read_bytes()).hexdigest()
    result = {"runs": [], "seconds": 1, "files": [], "created": "", "settings": {"embedder": "e5"},
              "squad": {"file": str(arcd), "paragraphs": 1, "questions": 1, "seconds": 1, "index_seconds": 1,
                        "answer_config": "extractive/hybrid", "short_answer_in_sample": True,
                        "retrieval": {"hybrid": {k: 1.0 for k, _ in SQUAD_RETRIEVAL}},
                        "answers": {k: 0.5 for k, _ in SQUAD_ANSWERS}}}
    assert IN_SAMPLE in console_report(result)
    assert "in-sample" in render_html(result)
