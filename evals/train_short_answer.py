"""Train and cross-validate the short-answer span ranker on ARCD (`app/answer/short_answer.py`).

    python evals/train_short_answer.py cv  [--records eval.json]   # 5 folds by article: EM/F1 never on training questions
    python evals/train_short_answer.py fit                         # writes app/answer/data/short_answer.json

Both train on ARCD's questions as written and as asked in English (`evals/arcd_en.jsonl`, the
same questions translated by hand, on the same sentences): an English question shares no word
with its sentence and is matched through the Arabic of its names and words (`with_arabic_forms`,
as the engine does), which places spans differently. Held out, English F1 on the gold sentence
rose from 0.357 (trained on Arabic alone) to 0.380, Arabic stayed 0.437-0.439.

A ranker over one sentence's candidate spans: LightGBM's LambdaRank, boosted trees
of depth 3, each candidate labelled by its token F1 with the gold answer (in tenths).
It sees only the hand features (lengths, distances to the question's words, figures,
punctuation), never a word, so it learns how Arabic sentences place answers, not this
set. The trees are written as arrays and evaluated with numpy at answer time
(`short_answer.Forest`): LightGBM is needed to train, not to answer.

Why trees: the features interact (a short span right after the question's verb, a
figure for "how many"), which a log-linear model over the same features could not
express. On ARCD's gold sentences, cross-validated, F1 rose from 0.372 (log-linear,
L2-penalised softmax) to the figure `cv` prints. The settings (`PARAMS`, `ROUNDS`)
were chosen among a dozen by that same cross-validation; deeper trees, more leaves
or raw distances instead of binned ones did no better.

Each question is trained on the sentence of its paragraph that holds the gold answer.
`cv` scores each fold by a model trained on the other folds only, twice: on the gold
sentence (the span step alone, comparable to a reader given the right text) and, with
`--records` (an `eval.json` of `python -m app eval --squad … --mode extractive`), on
the sentence the extractive answerer actually quoted first (what the product shows).
Folds group by article: ARCD repeats a Wikipedia lead cut at several lengths across
paragraphs of one article, so paragraph folds alone would leak.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import lightgbm as lgb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answer import short_answer  # noqa: E402
from app.answer.extractive import expected_type  # noqa: E402
from app.evaluation.dataset import load_squad, load_translations  # noqa: E402
from app.evaluation.metrics import exact_match, squad_tokens, token_f1  # noqa: E402
from app.text.arabic import lexical_tokens  # noqa: E402
from app.text.bilingual import with_arabic_forms  # noqa: E402
from app.text.sentences import sentence_spans  # noqa: E402

ARCD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "arcd" / "arcd-train.json"
TRANSLATIONS = Path(__file__).resolve().parent / "arcd_en.jsonl"
FOLDS = 5
DEPTH = 3
# A candidate's label is its F1 with the gold answer to this power, in tenths: at 1 the trees hedge
# toward longer spans (F1 0.435, EM 0.094 on the gold sentence); at 3 they favour the exact one
# (F1 0.420, EM 0.115) and the spans are about as long as ARCD's answers.
SHARPNESS = 3
NEVER = 1e30  # the threshold of a split LightGBM did not make: every feature is below it, so both sides are the one leaf
ROUNDS = 400
PARAMS = {"objective": "lambdarank", "learning_rate": 0.1, "max_depth": DEPTH, "num_leaves": 2**DEPTH,
          "min_data_in_leaf": 50, "lambdarank_truncation_level": 10, "label_gain": list(range(11)),
          "deterministic": True, "num_threads": 1, "verbose": -1}
_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass
class Example:
    id: str
    article: str
    question: str
    sentence: str  # the paragraph's sentence holding the gold answer
    answers: list[str]
    language: str = "ar"
    query: str | None = None  # what the engine matches the sentence with, when not the question


def in_english(examples: list[Example], data: Path, translations: Path) -> list[Example]:
    """The examples asked in English, with the query the engine would match: the question and the
    Arabic of its names and words, spelled names kept where ARCD's paragraphs hold them."""
    squad = load_squad(data)
    english = load_translations(translations, squad).questions
    known = {token for paragraph in squad.paragraphs for token in lexical_tokens(paragraph)}
    return [replace(ex, question=english[ex.id], language="en",
                    query=with_arabic_forms(english[ex.id], known.__contains__))
            for ex in examples if ex.id in english]


def load(path: Path) -> list[Example]:
    data = json.loads(path.read_text(encoding="utf-8"))
    examples = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = sentence_spans(context)
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
                inside = [(s, e) for s, e in spans if e > start and s < end] or spans[:1]
                sentence = context[inside[0][0]:inside[-1][1]]
                examples.append(Example(qa["id"], article["title"], qa["question"], sentence,
                                        [a["text"] for a in qa["answers"]]))
    return examples


def fold_of(article: str) -> int:
    return int(hashlib.sha256(article.encode("utf-8")).hexdigest(), 16) % FOLDS


@dataclass
class Prepared:
    features: np.ndarray
    f1: np.ndarray  # of each candidate against the gold answers


def span_f1(found: short_answer.Candidates, answers: list[str]) -> np.ndarray:
    """`token_f1` of every candidate, from each word's SQuAD tokens (the same tokens, computed once)."""
    pieces = [squad_tokens(word) for word in found.words]
    best = np.zeros(len(found.spans))
    for answer in answers:
        gold = Counter(squad_tokens(answer))
        for i, (first, last) in enumerate(found.spans):
            guess = [t for piece in pieces[first:last + 1] for t in piece]
            common = sum((Counter(guess) & gold).values())
            if common:
                precision, recall = common / len(guess), common / sum(gold.values())
                best[i] = max(best[i], 2 * precision * recall / (precision + recall))
    return best


def prepare(examples: list[Example]) -> list[Prepared | None]:
    """Candidates of each question's gold sentence and their F1; None when no candidate overlaps the gold."""
    prepared: list[Prepared | None] = []
    for ex in examples:
        found = short_answer.candidates(ex.question, ex.sentence, ex.query)
        f1 = span_f1(found, ex.answers)
        prepared.append(Prepared(found.features, f1) if len(f1) and f1.max() > 0 else None)
    return prepared


def fit(prepared: list[Prepared]) -> short_answer.Forest:
    """LambdaRank trees over each question's candidates, as a `short_answer.Forest`."""
    data = lgb.Dataset(np.concatenate([p.features for p in prepared]),
                       np.concatenate([np.round(p.f1 ** SHARPNESS * 10).astype(int) for p in prepared]),
                       group=[len(p.f1) for p in prepared])
    return as_forest(lgb.train(PARAMS, data, num_boost_round=ROUNDS))


def as_forest(booster: lgb.Booster) -> short_answer.Forest:
    """LightGBM's trees as complete heap-ordered arrays (`short_answer.Forest`)."""
    trees = booster.dump_model()["tree_info"]
    inner, leaves = 2**DEPTH - 1, 2**DEPTH
    features = np.zeros((len(trees), inner), np.int64)
    thresholds = np.full((len(trees), inner), NEVER, np.float64)
    values = np.zeros((len(trees), leaves), np.float32)

    def place(t: int, node: dict, at: int, depth: int) -> None:
        if depth == DEPTH:
            values[t, at - inner] = node["leaf_value"]
        elif "split_feature" in node:
            if node["decision_type"] != "<=" or node.get("missing_type") not in (None, "None"):
                raise ValueError(f"a split short_answer.Forest cannot evaluate: {node['decision_type']}")
            features[t, at], thresholds[t, at] = node["split_feature"], node["threshold"]
            place(t, node["left_child"], 2 * at + 1, depth + 1)
            place(t, node["right_child"], 2 * at + 2, depth + 1)
        else:  # a leaf above the last level: both sides reach it
            place(t, node, 2 * at + 1, depth + 1)
            place(t, node, 2 * at + 2, depth + 1)

    for t, tree in enumerate(trees):
        place(t, tree["tree_structure"], 0, 0)
    return short_answer.Forest(DEPTH, features, thresholds, values)


def pick(ex: Example, sentence: str, forest: short_answer.Forest) -> str:
    """What the engine's short answer would be with `forest` (`Engine._with_short_answer`)."""
    span = short_answer.extract(ex.question, sentence, forest, ex.query) if sentence else None
    if span is None:
        return ""
    return short_answer.english_form(span) if ex.language == "en" else span


def quoted_sentences(records_path: Path) -> dict[tuple[str, str], str]:
    """The first sentence each question's extractive answer quoted ("" when not found), by
    (language, id): an ARCD eval's records, and its translated questions' when it asked them."""
    data = json.loads(records_path.read_text(encoding="utf-8"))
    squad = data["squad"] if "squad" in data else data
    runs = [("ar", squad["records"])] + ([("en", squad["translated"]["records"])] if "translated" in squad else [])
    return {(language, r["id"]): (_MARKER.split(r["answer"])[0].strip() if r.get("found") else "")
            for language, records in runs for r in records}



def cross_validate(examples: list[Example], quoted: dict[tuple[str, str], str] | None) -> None:
    """EM/F1 of each held-out fold under weights trained on the other folds, averaged over questions."""
    prepared = prepare(examples)
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def score(name: str, guess: str, ex: Example) -> None:
        scores[f"{ex.language}: {name}"].append((exact_match(guess, ex.answers), token_f1(guess, ex.answers)))

    for fold in range(FOLDS):
        inside = [i for i, ex in enumerate(examples) if fold_of(ex.article) != fold]
        forest = fit([p for p in (prepared[i] for i in inside) if p is not None])
        for ex in examples:
            if fold_of(ex.article) != fold:
                continue
            kind = expected_type(ex.question) or "other"
            guess = pick(ex, ex.sentence, forest)
            score("gold sentence", guess, ex)
            score(f"gold sentence / {kind}", guess, ex)
            if quoted is not None and (ex.language, ex.id) in quoted:
                score("quoted sentence", pick(ex, quoted[ex.language, ex.id], forest), ex)
                score("quoted sentence, whole", quoted[ex.language, ex.id], ex)
    print(f"{FOLDS}-fold cross-validation by article on {len(examples)} questions (both languages):")
    for name, values in sorted(scores.items(), key=lambda item: (item[0].count("/"), item[0])):
        em, f1 = np.mean(values, axis=0)
        print(f"  {name:32s} n={len(values):4d}  EM {em:.3f}  F1 {f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["cv", "fit"])
    parser.add_argument("--data", type=Path, default=ARCD)
    parser.add_argument("--translations", type=Path, default=TRANSLATIONS, help="the questions in English")
    parser.add_argument("--records", type=Path, help="eval.json of an extractive ARCD run (cv only)")
    parser.add_argument("--out", type=Path, default=short_answer.MODEL)
    args = parser.parse_args()
    examples = load(args.data)
    examples += in_english(examples, args.data, args.translations)
    if args.command == "cv":
        cross_validate(examples, quoted_sentences(args.records) if args.records else None)
        return
    forest = fit([p for p in prepare(examples) if p is not None])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "about": "Short-answer span ranker: LambdaRank trees trained by evals/train_short_answer.py on ARCD "
                 "train (MIT, Mozannar et al. 2019), its questions as written and in English, over the hand "
                 "features of app/answer/short_answer.py.",
        "questions": len(examples), "translations": args.translations.name,
        "trained_on_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "params": PARAMS, "rounds": ROUNDS,
        "features": short_answer.feature_names(), "depth": forest.depth,
        "split_features": forest.features.tolist(),
        "thresholds": [[float(x) if np.isfinite(x) else NEVER for x in row] for row in forest.thresholds],
        "leaf_values": [[round(float(x), 6) for x in row] for row in forest.leaves],
    }, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
