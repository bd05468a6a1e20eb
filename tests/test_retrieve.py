"""Fusion arithmetic and the SQuAD near-copy gold, on hand-made cases."""

import pytest

from app.evaluation.runner import NearCopies
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


def test_a_lexical_index_from_another_analyser_is_rebuilt(tmp_path) -> None:
    import json

    from app.index.lexical import LexicalIndex

    index = LexicalIndex.build(["a", "b"], ["يحدها من الشمال تركيا", "تقع المدينة على البحر"])
    index.save(tmp_path)
    assert LexicalIndex.load(tmp_path).search("ما الذي تحد من الشمال", 2)[0][0] == "a"
    (tmp_path / "ids.json").write_text(json.dumps(["a", "b"]))  # an earlier version's format
    assert LexicalIndex.load(tmp_path) is None
