"""Fusion arithmetic and the SQuAD near-copy gold, on hand-made cases."""

import pytest

from app.evaluation.runner import NearCopies
from app.index.records import StoredPassage
from app.retrieve import relative_score_fusion


def test_relative_score_fusion_normalises_each_signal_and_sums() -> None:
    dense = {"a": 0.9, "b": 0.8, "c": 0.7}  # a: 1.0, b: 0.5, c: 0.0
    bm25 = {"c": 12.0, "b": 2.0}  # c: 1.0, b: 0.0; a is missing and gets 0
    fused = relative_score_fusion([dense, bm25, {}])
    assert fused == pytest.approx({"a": 1.0, "b": 0.5, "c": 1.0})


def test_a_signal_with_one_score_counts_fully() -> None:
    assert relative_score_fusion([{"a": 3.0}, {"a": 0.1, "b": 0.2}]) == {"a": 1.0, "b": 1.0}


def test_near_copies_need_shared_words_and_the_answer() -> None:
    lead = "ولد الكاتب في القاهرة عام 1911 ودرس في جامعتها"
    longer = lead + " ثم عمل في الصحافة سنوات طويلة وكتب روايات كثيرة"
    other = "تقع مدينة الإسكندرية على البحر المتوسط وبها مكتبة قديمة"
    copies = NearCopies([lead, longer, other])
    assert copies.of(0, ["1911"]) == ["p0000", "p0001"]
    assert copies.of(0, ["جامعة بعيدة"]) == ["p0000"]  # the answer is not in the copy
    assert copies.of(2, ["البحر"]) == ["p0002"]


def test_lexical_tokens_match_forms_the_stemmer_keeps_apart() -> None:
    from app.text.arabic import content_tokens, lexical_tokens

    assert not set(content_tokens("واستمرت")) & set(content_tokens("استمرت"))
    assert set(lexical_tokens("واستمرت")) & set(lexical_tokens("استمرت"))
    assert lexical_tokens("في من على") == []  # stop words stay out


def _passage(pid: str, text: str) -> StoredPassage:
    return StoredPassage(id=pid, source=pid, title="", date="", language="ar", chunk=0, text=text, sentences=[])


def test_the_lexical_cache_round_trips_and_another_analysers_cache_is_rebuilt(tmp_path) -> None:
    import json

    from app.index.lexical import TokenStore

    tokens = TokenStore(generation="g1")
    tokens.add([_passage("a", "يحدها من الشمال تركيا"), _passage("b", "تقع المدينة على البحر")])
    tokens.save(tmp_path / "cache")
    loaded = TokenStore.load(tmp_path / "cache")
    assert loaded.generation == "g1" and sorted(loaded.docs) == ["a", "b"]
    assert loaded.build().search("ما الذي تحد من الشمال", 2)[0][0] == "a"
    assert loaded.build().search("كلمات غير موجودة إطلاقا", 2) == []

    loaded.keep({"b"})  # an article dropped: its tokens go, the rest stay
    assert [pid for pid, _ in loaded.build().search("المدينة البحر", 2)] == ["b"]

    state = tmp_path / "cache" / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), "analyser": "an earlier one"}))
    assert TokenStore.load(tmp_path / "cache").docs == {}  # rebuilt from Chroma, not trusted
    (tmp_path / "cache" / "tokens.npy").write_bytes(b"garbage")
    assert TokenStore.load(tmp_path / "cache").docs == {}
