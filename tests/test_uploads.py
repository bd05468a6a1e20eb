"""Uploads: hostile names stay inside the corpus folder, bad files are refused
with a reason and change nothing, good files are searchable at once (real engine)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.config import Settings
from app.engine import Engine
from app.uploads import add_articles, discard_received, safe_name, save_article
from tests.conftest import SEEDS, make_settings

ARTICLE = (
    "افتتحت بلدية وادي الريحان اليوم مكتبة عامة جديدة تضم اثني عشر ألف كتاب، "
    "وقالت رئيسة البلدية سلمى القاسم إن المكتبة ستفتح أبوابها يوميًا حتى منتصف الليل.\n"
    "وأضافت أن قاعة المطالعة خُصصت لطلاب الجامعات خلال فترة الامتحانات.\n"
)


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/report.HTML", "report.html"),
        (".hidden.txt", "hidden.txt"),
        ("خبر عاجل.txt", "خبر عاجل.txt"),
        ("<img src=x onerror=alert(1)>.txt", "img src_x onerror_alert_1.txt"),
        ("a\x00b|c;d.txt", "a_b_c_d.txt"),
        ("....txt", "article.txt"),
        ("..", "article"),
    ],
)
def test_safe_name_keeps_one_plain_file_name(sent: str, saved: str) -> None:
    assert safe_name(sent) == saved


def test_save_never_leaves_the_folder_nor_overwrites(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    first, new = save_article(corpus, "../outside.txt", b"one")
    assert new and first == (corpus / "outside.txt").resolve()
    assert not (tmp_path / "outside.txt").exists()

    second, new = save_article(corpus, "outside.txt", b"two")  # same name, other text
    assert new and second.name == "outside-2.txt"
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"

    again, new = save_article(corpus, "outside.txt", b"two")  # same name, same text as #2
    assert not new and again == second
    assert sorted(p.name for p in corpus.iterdir()) == ["outside-2.txt", "outside.txt"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Engine]:
    """A real engine over two seed articles (small, so the module stays quick)."""
    base = tmp_path_factory.mktemp("uploads")
    corpus = base / "corpus"
    corpus.mkdir()
    for seed in sorted(SEEDS.iterdir())[:2]:
        shutil.copy(seed, corpus / seed.name)
    settings = make_settings(corpus_dir=corpus, index_dir=base / "index")
    engine = Engine(settings)
    engine.ensure_ready()
    return settings, engine


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.slow
def test_good_file_is_searchable_and_bad_files_are_refused_with_reasons(
    indexed: tuple[Settings, Engine], tmp_path: Path
) -> None:
    settings, engine = indexed
    before = engine.stats()
    corpus_before = sorted(p.name for p in settings.corpus_dir.iterdir())
    incoming = tmp_path / "incoming"
    uploads = [
        _write(incoming, "مكتبة.txt", ARTICLE.encode()),
        _write(incoming, "empty.txt", b"  \n\n "),
        _write(incoming, "photo.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        _write(incoming, "latin1.txt", "café déjà vu, an article in Latin-1".encode("latin-1")),
        _write(incoming, "big.html", b"<p>" + b"x" * 5000 + b"</p>"),
        _write(incoming, "slides.pdf", b"%PDF-1.4 text"),
    ]

    outcome = add_articles(settings.corpus_dir, engine, uploads, inbox=incoming, max_bytes=4000, max_files=10)

    assert outcome.added == ["مكتبة.txt"]
    reasons = dict(outcome.rejected)
    assert set(reasons) == {"empty.txt", "photo.md", "latin1.txt", "big.html", "slides.pdf"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["photo.md"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "limit" in reasons["big.html"]
    assert ".txt" in reasons["slides.pdf"]

    # Only the good file reached the corpus folder; nothing indexed before was lost.
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == sorted(corpus_before + ["مكتبة.txt"])
    after = engine.stats()
    assert after["articles"] == before["articles"] + 1
    assert after["passages"] > before["passages"]

    answer = engine.answer("كم كتابًا تضم المكتبة العامة الجديدة في وادي الريحان؟")
    assert answer.found
    assert answer.citations[0].source == "مكتبة.txt"


@pytest.mark.slow
def test_uploading_the_same_file_again_adds_nothing(indexed: tuple[Settings, Engine], tmp_path: Path) -> None:
    settings, engine = indexed
    limits = {"inbox": tmp_path, "max_bytes": 10_000, "max_files": 10}
    first = add_articles(settings.corpus_dir, engine, [_write(tmp_path / "a", "twice.txt", ARTICLE.encode())], **limits)
    count = engine.stats()["articles"]
    second = add_articles(settings.corpus_dir, engine, [_write(tmp_path / "b", "twice.txt", ARTICLE.encode())], **limits)
    assert first.added == ["twice.txt"]
    assert second.added == [] and second.unchanged == ["twice.txt"] and second.rejected == []
    assert engine.stats()["articles"] == count


@pytest.mark.slow
def test_a_file_the_indexer_rejects_is_not_left_in_the_corpus(
    indexed: tuple[Settings, Engine], tmp_path: Path
) -> None:
    settings, engine = indexed
    page = _write(tmp_path, "chrome-only.html", b"<html><head><script>var a=1;</script></head><body></body></html>")
    outcome = add_articles(settings.corpus_dir, engine, [page], inbox=tmp_path, max_bytes=10_000, max_files=10)
    assert outcome.added == []
    assert [name for name, _ in outcome.rejected] == ["chrome-only.html"]
    assert not (settings.corpus_dir / "chrome-only.html").exists()


@pytest.mark.slow
def test_only_files_inside_the_inbox_are_read_and_at_most_max_files(
    indexed: tuple[Settings, Engine], tmp_path: Path
) -> None:
    """A path a client names outside the inbox, or a link out of it, is refused unread."""
    settings, engine = indexed
    inbox = tmp_path / "inbox"
    secret = _write(tmp_path / "elsewhere", "secret.txt", b"The vault password is swordfish.\n")
    (inbox / "h1").mkdir(parents=True)
    (inbox / "h1" / "link.txt").symlink_to(secret)
    corpus_before = sorted(p.name for p in settings.corpus_dir.iterdir())
    uploads = [secret, inbox / "h1" / "link.txt", inbox / ".." / "elsewhere" / "secret.txt", inbox / "missing.txt"]
    uploads += [_write(inbox / f"n{n}", f"news{n}.txt", ARTICLE.replace("اليوم", f"اليوم {n}").encode()) for n in range(3)]

    outcome = add_articles(settings.corpus_dir, engine, uploads, inbox=inbox, max_bytes=10_000, max_files=6)

    reasons = outcome.rejected
    assert [name for name, _ in reasons] == ["secret.txt", "link.txt", "secret.txt", "missing.txt", "news2.txt"]
    assert all("not received through the upload" in why for _, why in reasons[:4])
    assert "at most 6 files" in reasons[4][1]
    assert outcome.added == ["news0.txt", "news1.txt"]
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == sorted(corpus_before + outcome.added)
    assert all(str(tmp_path) not in why for _, why in reasons)


def test_discard_removes_handled_uploads_and_nothing_outside_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    alone = _write(inbox / "h1", "a.txt", b"a")
    shared = [_write(inbox / "h2", "b.txt", b"b"), _write(inbox / "h2", "c.txt", b"c")]
    outside = _write(tmp_path / "keep", "d.txt", b"d")

    discard_received([alone, shared[0], outside, inbox, inbox / "gone.txt"], inbox)

    assert not alone.exists() and not (inbox / "h1").exists()  # its folder went with it
    assert not shared[0].exists() and shared[1].exists()  # a folder still in use stays
    assert outside.exists() and inbox.is_dir()
