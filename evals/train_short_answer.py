"""Train and cross-validate the short-answer span ranker on ARCD (`app/answer/short_answer.py`).

    python evals/train_short_answer.py cv  [--records eval.json]   # 5 folds by article: EM/F1 never on training questions
    python evals/train_short_answer.py fit                         # writes app/answer/data/short_answer.json

A conditional log-linear ranker (softmax over one sentence's candidates) with an
L2 penalty: low capacity on purpose, so it learns how Arabic sentences place answers,
not this set. It scores every span on a few dozen hand features. Each question
is trained on the sentence of its paragraph that holds the gold answer; the target
spreads over the candidates by their token F1 with the gold answer. `cv` scores
each fold by weights trained on the other folds only.

`cv` scores the held-out fold twice: on the gold sentence (the span step alone,
comparable to a reader given the right text) and, with `--records` (an
`eval.json` of `python -m app eval --squad … --mode extractive`), on the sentence
the extractive answerer actually quoted first (what the product shows).
Folds group by article: ARCD repeats a Wikipedia lead cut at several lengths
across paragraphs of one article, so paragraph folds alone would leak.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answer import short_answer  # noqa: E402
from app.answer.extractive import expected_type  # noqa: E402
from app.evaluation.metrics import exact_match, squad_tokens, token_f1  # noqa: E402
from app.text.sentences import sentence_spans  # noqa: E402

ARCD = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "arcd" / "arcd-train.json"
FOLDS = 5
# On the question-averaged loss; chosen by `cv --l2` (0.2: F1 0.362, 1: 0.369, 5: 0.376), not per fold.
L2 = 5.0
SHARPNESS = 3  # target weight of a candidate: its F1 to this power (1.5: F1 0.394, EM 0.043; 6: 0.387, 0.097)
_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass
class Example:
    id: str
    article: str
    question: str
    sentence: str  # the paragraph's sentence holding the gold answer
    answers: list[str]


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
    target: np.ndarray  # sums to 1


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
    """Candidates and targets of each question's gold sentence; None when no candidate overlaps the gold."""
    prepared: list[Prepared | None] = []
    for ex in examples:
        found = short_answer.candidates(ex.question, ex.sentence)
        f1 = span_f1(found, ex.answers)
        if not len(f1) or f1.max() <= 0:
            prepared.append(None)
            continue
        target = f1 ** SHARPNESS
        prepared.append(Prepared(found.features, target / target.sum()))
    return prepared


def fit(prepared: list[Prepared], l2: float) -> np.ndarray:
    """Weights minimising the mean cross-entropy to the F1-shaped targets plus `l2`·|w|²."""
    features = np.concatenate([p.features for p in prepared]).astype(np.float64)
    target = np.concatenate([p.target for p in prepared])
    starts = np.cumsum([0] + [len(p.target) for p in prepared[:-1]])
    owner = np.repeat(np.arange(len(prepared)), [len(p.target) for p in prepared])
    n = len(prepared)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = features @ w
        scores -= np.maximum.reduceat(scores, starts)[owner]
        exp = np.exp(scores)
        prob = exp / np.add.reduceat(exp, starts)[owner]
        total = -float(target @ np.log(prob + 1e-12))
        grad = features.T @ (prob - target)
        return total / n + l2 * float(w @ w) / n, grad / n + 2 * l2 * w / n

    result = minimize(loss, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x


def pick(ex: Example, sentence: str, weights: np.ndarray) -> str:
    """What `short_answer.extract` answers with `weights`."""
    if not sentence:
        return ""
    return short_answer.extract(ex.question, sentence, weights) or ""


def quoted_sentences(records_path: Path) -> dict[str, str]:
    """The first sentence each question's extractive answer quoted ("" when not found)."""
    data = json.loads(records_path.read_text(encoding="utf-8"))
    records = data["squad"]["records"] if "squad" in data else data["records"]
    return {r["id"]: (_MARKER.split(r["answer"])[0].strip() if r.get("found") else "") for r in records}


def cross_validate(examples: list[Example], l2: float, quoted: dict[str, str] | None) -> None:
    """EM/F1 of each held-out fold under weights trained on the other folds, averaged over questions."""
    prepared = prepare(examples)
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def score(name: str, guess: str, ex: Example) -> None:
        scores[name].append((exact_match(guess, ex.answers), token_f1(guess, ex.answers)))

    for fold in range(FOLDS):
        inside = [i for i, ex in enumerate(examples) if fold_of(ex.article) != fold]
        weights = fit([p for p in (prepared[i] for i in inside) if p is not None], l2)
        for ex in examples:
            if fold_of(ex.article) != fold:
                continue
            kind = expected_type(ex.question) or "other"
            guess = pick(ex, ex.sentence, weights)
            score("gold sentence", guess, ex)
            score(f"gold sentence / {kind}", guess, ex)
            if quoted is not None and ex.id in quoted:
                score("quoted sentence", pick(ex, quoted[ex.id], weights), ex)
                score("quoted sentence, whole", quoted[ex.id], ex)
    print(f"{FOLDS}-fold cross-validation by article on {len(examples)} questions (l2={l2}):")
    for name, values in sorted(scores.items(), key=lambda item: (item[0].count("/"), item[0])):
        em, f1 = np.mean(values, axis=0)
        print(f"  {name:32s} n={len(values):4d}  EM {em:.3f}  F1 {f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["cv", "fit"])
    parser.add_argument("--data", type=Path, default=ARCD)
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--records", type=Path, help="eval.json of an extractive ARCD run (cv only)")
    parser.add_argument("--out", type=Path, default=short_answer.WEIGHTS)
    args = parser.parse_args()
    examples = load(args.data)
    if args.command == "cv":
        cross_validate(examples, args.l2, quoted_sentences(args.records) if args.records else None)
        return
    weights = fit([p for p in prepare(examples) if p is not None], args.l2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "about": "Short-answer span ranker weights, trained by evals/train_short_answer.py on ARCD train "
                 "(MIT, Mozannar et al. 2019); one weight per hand feature of app/answer/short_answer.py.",
        "l2": args.l2, "questions": len(examples),
        "features": short_answer.feature_names(), "weights": [round(float(w), 4) for w in weights],
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
