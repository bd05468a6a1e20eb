"""The eval metrics on hand-made cases whose right answer is known."""

from __future__ import annotations

import math

import pytest

from app.evaluation import metrics as m


def test_hit_at_k_and_reciprocal_rank_use_the_first_gold_passage():
    ranked = ["a", "b", "c", "b"]
    assert m.hit_at_k(ranked, ["c"], 1) == 0.0
    assert m.hit_at_k(ranked, ["c"], 2) == 0.0
    assert m.hit_at_k(ranked, ["c"], 3) == 1.0
    assert m.reciprocal_rank(ranked, ["c", "b"]) == pytest.approx(1 / 2)
    assert m.reciprocal_rank(ranked, ["z"]) == 0.0


def test_ndcg_credits_each_gold_file_once():
    ideal = 1 + 1 / math.log2(3)
    # Two passages of the same article are not two relevant results.
    assert m.ndcg_at_k(["a", "a", "x"], ["a", "b"]) == pytest.approx(1 / ideal)
    assert m.ndcg_at_k(["a", "x", "b"], ["a", "b"]) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert m.ndcg_at_k(["b", "a"], ["a", "b"]) == pytest.approx(1.0)
    # Beyond k nothing counts.
    assert m.ndcg_at_k(["x"] * 10 + ["a"], ["a"], k=10) == 0.0


def test_fact_found_when_only_the_answer_has_diacritics():
    answer = "قالَ مارك رُوتّه إنّ الحِلفَ سيُواصِلُ دعمَهُ لكييف"
    assert m.fact_in(answer, ["روته", "Rutte"])
    assert not m.fact_in("قال الأمين العام إن الحلف سيواصل دعمه", ["روته", "Rutte"])


def test_fact_forms_fold_alef_ya_and_ta_marbuta():
    assert m.fact_in("اجتماع في لاهاى الهولندية", ["لاهاي"])
    assert m.fact_in("عقدت القمه في مدريد", ["القمة"])
    assert m.fact_in("عقدت القمة في مدريد", ["القمه"])
    assert m.fact_in("حضر آيزنهاور", ["ايزنهاور"])


def test_arabic_indic_digits_match_ascii_forms_and_numbers_keep_their_boundaries():
    answer = "الاستثمار بنسبة ٥٪ من الناتج بحلول عام ٢٠٣٥"
    assert m.fact_in(answer, ["5%"])
    assert m.fact_in(answer, ["2035"])
    assert not m.fact_in("بنسبة 3.5% من الناتج", ["5%"])
    assert not m.fact_in("بحلول عام 2035", ["20"])
    assert m.fact_in("بنسبة 3.5% من الناتج", ["3.5%"])


def test_arabic_prefixes_match_but_latin_words_do_not_start_mid_word():
    assert m.fact_in("اجتماع الوزراء وبروكسل", ["بروكسل"])
    assert not m.fact_in("Kyiv and Tokyo", ["Japan", "kyo"])
    assert m.fact_in("Rutte's speech in Bucharest", ["Bucharest"])


def test_the_article_after_lam_is_spelled_lam_lam():
    assert m.fact_in("الممثلة العليا للسياسة الخارجية", ["السياسة الخارجية"])
    assert not m.fact_in("الممثلة العليا للشؤون الخارجية", ["السياسة الخارجية"])


def test_a_citation_that_does_not_hold_the_fact():
    facts = [["بوخارست", "Bucharest"]]
    cited = [("000", "انطلق المنتدى في العاصمة الرومانية بوخارست"), ("004", "اجتماع مع اليابان وأستراليا")]
    assert m.citation_precision(cited, gold=["000"], facts=facts) == pytest.approx(0.5)
    assert m.citation_recall([text for _, text in cited[1:]], facts) == 0.0
    assert m.citation_recall([text for _, text in cited], facts) == 1.0
    # A passage from a gold source counts as precise even when the fact is elsewhere.
    assert m.citation_precision([("000", "نص آخر")], gold=["000"], facts=facts) == 1.0
    assert m.citation_precision([], gold=["000"], facts=facts) is None


def test_citation_markers_read_lists_ranges_and_arabic_digits():
    from app.answer.markers import cited_numbers, strip_markers

    assert cited_numbers("أولا [1، ٢] ثم [3,1] و[2] ثم [ 4 - 5 ]") == [1, 2, 3, 4, 5]
    assert cited_numbers("[1-300] ليس استشهادا") == []
    assert strip_markers("نص [1] آخر [2, 3].") == "نص آخر ."


def test_faithfulness_counts_sentences_supported_by_their_citations():
    passages = {1: "قال روته إن الحلف ضاعف إنتاج الذخائر بعد أن كانت روسيا تتفوق عليه.", 2: "نص لا صلة له بالموضوع"}
    quoted = "قال روته إن الحلف ضاعف إنتاج الذخائر. [1]"
    invented = "وأعلنت البرازيل انضمامها إلى الحلف الأطلسي قريبا [2]."
    assert m.faithfulness(quoted, passages) == 1.0
    assert m.faithfulness(f"{quoted} {invented}", passages) == pytest.approx(0.5)
    # A sentence citing nothing is not faithful, however true it is.
    assert m.faithfulness("قال روته إن الحلف ضاعف إنتاج الذخائر.", passages) == 0.0
    assert m.faithfulness("", passages) is None


def test_language_match():
    assert m.language_matches("Rutte said NATO doubled ammunition output [1].", "en")
    assert not m.language_matches("قال روته إن الحلف ضاعف إنتاج الذخائر [1].", "en")


def test_percentile_interpolates_like_numpy():
    values = list(range(1, 101))
    assert m.percentile(values, 50) == pytest.approx(50.5)
    assert m.percentile(values, 95) == pytest.approx(95.05)
    assert m.percentile([7.0], 95) == 7.0
    assert m.percentile([], 50) is None


def test_squad_exact_match_and_f1_after_arabic_normalisation():
    assert m.exact_match("المدينةُ المنوّرة.", ["المدينة المنورة"]) == 1.0
    assert m.exact_match("في المدينة المنورة", ["المدينة المنورة"]) == 0.0
    assert m.token_f1("في المدينة المنورة [1]", ["المدينة المنورة"]) == pytest.approx(0.8)
    assert m.token_f1("١٩٥٨", ["عام 1958", "1958"]) == 1.0
    assert m.token_f1("لا شيء", ["المدينة المنورة"]) == 0.0
