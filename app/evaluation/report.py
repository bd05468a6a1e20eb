"""Eval reports: a console table, and one self-contained HTML page with inline SVG charts.

The HTML needs nothing from the network (no CDN, no scripts), so it can be
kept as a CI artifact and opened anywhere. Every text from the articles or the
answers is escaped and marked `dir="auto"` so Arabic reads right to left.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

# (key, label) in display order; the first group are shares in 0..1.
SHARE_METRICS = [
    ("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("ndcg@10", "nDCG@10"),
    ("fact_accuracy", "fact accuracy"), ("fact_recall", "fact recall"),
    ("refusal_accuracy", "refusal accuracy"), ("false_refusal_rate", "false refusals"),
    ("citation_precision", "citation precision"), ("citation_recall", "citation recall"),
    ("faithfulness", "faithfulness"), ("lang_match", "language match"),
    ("judge_faithfulness", "judge: faithful"),
]
# Over the time-bound questions only (see `scoring.time_scores`).
TIME_METRICS = [("in_period", "in period"), ("latest_first", "latest first"), ("timeline", "timeline order")]
OTHER_METRICS = [
    ("judge_correctness", "judge: correctness (1-5)"), ("latency_p50_ms", "latency p50 ms"),
    ("latency_p95_ms", "latency p95 ms"), ("questions", "questions"), ("errors", "errors"),
]
LOWER_IS_BETTER = {"false_refusal_rate", "latency_p50_ms", "latency_p95_ms", "errors"}
LATENCY_TOLERANCE = 0.10  # latency is noisy: only 10 % slower counts as worse
CHART_METRICS = ["hit@5", "mrr", "fact_accuracy", "refusal_accuracy", "citation_precision",
                 "citation_recall", "faithfulness", "lang_match"]
SQUAD_RETRIEVAL = [("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"),
                   ("hit@1_copies", "hit@1 copies"), ("hit@5_copies", "hit@5 copies")]
# The span ranker is trained on ARCD: its short answers on that file are scored on its own training questions.
IN_SAMPLE = ("short EM/F1 are in-sample: the short-answer ranker was trained on this file; its held-out "
             "figures come from `python evals/train_short_answer.py cv`")
SQUAD_ANSWERS = [("em", "EM"), ("f1", "F1"), ("short_em", "short EM"), ("short_f1", "short F1"),
                 ("found_rate", "answered"), ("absent_refused", "refused with the answer left out"),
                 ("latency_p50_ms", "latency p50 ms"), ("latency_p95_ms", "latency p95 ms")]
# The translated questions beside the same ones as the set wrote them (hybrid retrieval, the answers).
TRANSLATED = [("hit@1", "hit@1"), ("hit@5", "hit@5"), ("mrr", "MRR"), ("hit@1_copies", "hit@1 copies"),
              ("found_rate", "answered"), ("short_f1", "short F1"), ("absent_refused", "refused, answer left out")]
COLOURS = {"overall": "#4c6ef5", "ar": "#12b886", "en": "#f59f00",
           "dense": "#7950f2", "bm25": "#fd7e14", "hybrid": "#1c7ed6", "fact accuracy": "#4c6ef5", "in period": "#12b886"}
GENERAL_METRICS = SHARE_METRICS + OTHER_METRICS
ALL_METRICS = SHARE_METRICS + TIME_METRICS + OTHER_METRICS
# What the time table shows: the time scores beside the general ones that still say something there.
TIME_TABLE = [m for m in ALL_METRICS if m[0] in {
    "hit@5", "mrr", "fact_accuracy", "fact_recall", "refusal_accuracy", "false_refusal_rate", "citation_precision",
    "faithfulness", "in_period", "latest_first", "timeline", "latency_p95_ms", "questions", "errors"}]
TIME_GROUPS = ("time", "time:ar", "time:en")


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.3f}"


# --- comparison with a previous run ----------------------------------------------------------

def is_worse(metric: str, before: float, after: float) -> bool:
    if metric.startswith("latency"):
        return after > before * (1 + LATENCY_TOLERANCE)
    return after > before if metric in LOWER_IS_BETTER else after < before


def _deltas(before: dict[str, Any], after: dict[str, Any], metrics: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = []
    for key, label in metrics:
        b, a = before.get(key), after.get(key)
        if b is None or a is None or b == a:
            continue
        rows.append({"metric": key, "label": label, "before": b, "after": a, "delta": a - b,
                     "worse": is_worse(key, b, a)})
    return rows


def compare_runs(baseline: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """What changed since `baseline`: metric deltas per configuration, and questions that flipped."""
    previous = {run["label"]: run for run in baseline.get("runs", [])}
    runs = []
    for run in result["runs"]:
        old = previous.get(run["label"])
        if old is None:
            continue
        was = {r["id"]: r.get("correct") for r in old.get("records", [])}
        now = {r["id"]: r.get("correct") for r in run["records"]}
        runs.append({
            "label": run["label"],
            "groups": {group: _deltas(old["summary"].get(group, {}), run["summary"][group], ALL_METRICS)
                       for group in ("overall", "ar", "en") + TIME_GROUPS if group in run["summary"]},
            "newly_failing": [i for i, ok in now.items() if was.get(i) is True and not ok],
            "newly_passing": [i for i, ok in now.items() if was.get(i) is False and ok],
        })
    comparison: dict[str, Any] = {"baseline_created": baseline.get("created"), "runs": runs,
                                  "missing": sorted(set(previous) - {r["label"] for r in result["runs"]})}
    old_squad, squad = baseline.get("squad"), result.get("squad")
    if old_squad and squad:
        comparison["squad"] = {
            **{mode: _deltas(old_squad["retrieval"].get(mode, {}), squad["retrieval"][mode], SQUAD_RETRIEVAL)
               for mode in squad["retrieval"]},
            "answers": _deltas(old_squad.get("answers", {}), squad["answers"], SQUAD_ANSWERS),
        }
    return comparison


def weakest_types(run: dict[str, Any], count: int = 3) -> list[tuple[str, float, int]]:
    """Question types (tags) with the lowest fact accuracy: (tag, accuracy, questions)."""
    scored = [(group[4:], s["fact_accuracy"], s["questions"]) for group, s in run["summary"].items()
              if group.startswith("tag:") and s["fact_accuracy"] is not None]
    return sorted(scored, key=lambda item: (item[1], -item[2]))[:count]


# --- console -----------------------------------------------------------------------------------

def _translated(squad: dict[str, Any]) -> tuple[str, list[str], list[list[str]]]:
    """The translated SQuAD questions beside the originals: a caption, a header and two rows."""
    tr = squad["translated"]

    def row(label: str, summary: dict[str, Any]) -> list[str]:
        values = {**summary["retrieval"]["hybrid"], **summary["answers"]}
        return [label] + [fmt(values[k]) for k, _ in TRANSLATED]

    caption = f"translated questions ({tr['file']}, {tr['questions']} questions, hybrid retrieval):"
    return caption, ["asked"] + [label for _, label in TRANSLATED], [row("as the set wrote them", tr["original"]),
                                                                     row("translated", tr)]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def time_kinds(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The kinds of time question (their tags) and their summaries."""
    return [(group[len("time:tag:"):], s) for group, s in run["summary"].items() if group.startswith("time:tag:")]


def _time_console(result: dict[str, Any]) -> list[str]:
    """The time-bound questions' table, their kinds, and what the figures cover."""
    runs = [run for run in result["runs"] if run["summary"].get("time", {}).get("questions")]
    skipped = ([f"{result['news_skipped']} question(s) on the news-ar subset need --news PATH: the time figures "
                "cover the seed questions only, and the time gates were not applied"] if result.get("news_skipped") else [])
    if not runs:
        return skipped
    header = ["time metric"] + [f"{run['label']} {g}" for run in runs for g in TIME_GROUPS]
    parts = [_table(header, [[label] + [fmt(run["summary"][g][key]) for run in runs for g in TIME_GROUPS]
                             for key, label in TIME_TABLE])]
    for run in runs:
        kinds = [[kind, fmt(s["questions"])] + [fmt(s[key]) for key in ("fact_accuracy", "refusal_accuracy",
                                                                         "in_period", "latest_first", "timeline")]
                 for kind, s in time_kinds(run)]
        parts.append(f"[{run['label']}] time questions by kind\n" + _table(
            ["kind", "n", "fact accuracy", "refusal accuracy", "in period", "latest first", "timeline order"], kinds))
    for run in runs:
        if news := run.get("news"):
            parts.append(f"[{run['label']}] news-ar subset: {news['stats'].get('articles')} articles, "
                         f"{news['stats'].get('passages')} passages, today {result['news']['today']}; "
                         f"ready in {news['ready_seconds']} s")
    return parts + skipped


def console_report(result: dict[str, Any]) -> str:
    """The summary a person reads in the terminal or the CI log."""
    parts = []
    if result["runs"]:
        header = ["metric"] + [f"{run['label']} {g}" for run in result["runs"] for g in ("all", "ar", "en")]
        rows = [[label] + [fmt(run["summary"][g][key]) for run in result["runs"] for g in ("overall", "ar", "en")]
                for key, label in GENERAL_METRICS]
        parts.append(_table(header, rows))
        for run in result["runs"]:
            weak = ", ".join(f"{tag} {acc:.2f} (n={n})" for tag, acc, n in weakest_types(run))
            parts.append(f"[{run['label']}] weakest question types by fact accuracy: {weak or '–'}; "
                         f"{run['seconds']} s")
        parts += _time_console(result)
    squad = result.get("squad")
    if squad:
        rows = [[mode] + [fmt(squad["retrieval"][mode][k]) for k, _ in SQUAD_RETRIEVAL] for mode in squad["retrieval"]]
        parts.append(f"SQuAD set {squad['file']}: {squad['paragraphs']} paragraphs, {squad['questions']} questions, "
                     f"{squad['seconds']} s (indexing {squad['index_seconds']} s)\n"
                     + _table(["retrieval"] + [label for _, label in SQUAD_RETRIEVAL], rows))
        parts.append(f"answers ({squad['answer_config']}): "
                     + ", ".join(f"{label} {fmt(squad['answers'][k])}" for k, label in SQUAD_ANSWERS))
        if squad.get("short_answer_in_sample"):
            parts.append(IN_SAMPLE)
        if "translated" in squad:
            caption, header, rows = _translated(squad)
            parts.append(caption + "\n" + _table(header, rows))
    if result.get("gates"):
        parts.append("\n".join(f"{'PASS' if g['passed'] else 'FAIL'}  {g['scope']} {g['metric']} = "
                               f"{fmt(g['value'])} (gate: {g['op']} {g['bound']})" for g in result["gates"]))
    comparison = result.get("comparison")
    if comparison:
        lines = [f"compared with the run of {comparison['baseline_created']}:"]
        for run in comparison["runs"]:
            for group, rows in run["groups"].items():
                lines += [f"  {'WORSE' if row['worse'] else 'better':6} {run['label']} {group} {row['label']}: "
                          f"{fmt(row['before'])} -> {fmt(row['after'])}" for row in rows]
            if run["newly_failing"]:
                lines.append(f"  now failing ({run['label']}): {', '.join(run['newly_failing'])}")
            if run["newly_passing"]:
                lines.append(f"  now passing ({run['label']}): {', '.join(run['newly_passing'])}")
        parts.append("\n".join(lines))
    parts.append(f"total {result['seconds']} s")
    return "\n\n".join(parts)


# --- HTML --------------------------------------------------------------------------------------

def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def bar_chart(title: str, categories: list[str], series: dict[str, list[float | None]],
              maximum: float = 1.0) -> str:
    """Grouped vertical bars as inline SVG (None is drawn as a gap labelled 'n/a')."""
    bar, gap, height, top, bottom = 14, 18, 160, 28, 70
    group_width = bar * len(series) + gap
    width = 50 + group_width * len(categories) + 120
    maximum = maximum or 1.0
    out = [f'<svg class="chart" viewBox="0 0 {width} {top + height + bottom}" width="{width}" '
           f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>',
           f'<text x="0" y="16" class="ct">{esc(title)}</text>']
    for tick in range(0, 5):
        y = top + height - height * tick / 4
        out.append(f'<line x1="44" x2="{width - 120}" y1="{y}" y2="{y}" class="grid"/>'
                   f'<text x="40" y="{y + 4}" class="tick" text-anchor="end">{fmt(maximum * tick / 4)}</text>')
    for c, category in enumerate(categories):
        x0 = 50 + c * group_width
        for s, (name, values) in enumerate(series.items()):
            value = values[c]
            x = x0 + s * bar
            if value is None:
                out.append(f'<text x="{x + bar / 2}" y="{top + height - 3}" class="na" '
                           f'text-anchor="middle">·</text>')
                continue
            h = height * min(value, maximum) / maximum
            out.append(f'<rect x="{x}" y="{top + height - h}" width="{bar - 2}" height="{h}" '
                       f'fill="{COLOURS.get(name, "#868e96")}"><title>{esc(name)} {esc(category)}: '
                       f'{fmt(value)}</title></rect>')
        out.append(f'<text transform="translate({x0 + group_width / 2 - gap / 2},{top + height + 10}) rotate(35)" '
                   f'class="tick">{esc(category)}</text>')
    for s, name in enumerate(series):
        y = top + 10 + s * 16
        out.append(f'<rect x="{width - 110}" y="{y - 9}" width="10" height="10" fill="{COLOURS.get(name, "#868e96")}"/>'
                   f'<text x="{width - 96}" y="{y}" class="tick">{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(title: str, values: list[float], bins: int = 12) -> str:
    """Latency distribution as inline SVG bars (ms on the x axis)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / step), bins - 1)] += 1
    width, height, top = 420, 120, 24
    bar = (width - 40) / bins
    peak = max(counts)
    out = [f'<svg class="chart" viewBox="0 0 {width} {top + height + 30}" width="{width}" role="img" '
           f'aria-label="{esc(title)}"><title>{esc(title)}</title><text x="0" y="16" class="ct">{esc(title)}</text>']
    for i, count in enumerate(counts):
        h = height * count / peak
        out.append(f'<rect x="{20 + i * bar}" y="{top + height - h}" width="{bar - 2}" height="{h}" fill="#4c6ef5">'
                   f'<title>{fmt(low + i * step)}–{fmt(low + (i + 1) * step)} ms: {count}</title></rect>')
    out.append(f'<text x="20" y="{top + height + 16}" class="tick">{fmt(low)} ms</text>'
               f'<text x="{width - 20}" y="{top + height + 16}" class="tick" text-anchor="end">{fmt(high)} ms</text>'
               "</svg>")
    return "".join(out)


def _metrics_table(run: dict[str, Any], groups: tuple[str, ...] = ("overall", "ar", "en"),
                   metrics: list[tuple[str, str]] = GENERAL_METRICS) -> str:
    head = "".join(f"<th>{g}</th>" for g in groups)
    body = "".join(f"<tr><td>{esc(label)}</td>" + "".join(f"<td>{fmt(run['summary'][g][key])}</td>" for g in groups)
                   + "</tr>" for key, label in metrics)
    return f"<table><tr><th>metric</th>{head}</tr>{body}</table>"


def _time_expected(r: dict[str, Any]) -> str:
    """What a time-bound question asked of the answer besides its facts, and whether it held."""
    checks = []
    if r.get("since") or r.get("until"):
        checks.append((f"cited articles dated {r.get('since') or '…'} – {r.get('until') or '…'}", r.get("in_period")))
    if r.get("latest"):
        checks.append((f"newest first: {r['latest']}", r.get("latest_first")))
    if "timeline" in r:
        checks.append(("a dated list, oldest first", r["timeline"]))
    return "".join(f'<li class="{"ok" if ok else "miss"}">{"✓" if ok else "✗" if ok == 0 else "–"} {esc(text)}</li>'
                   for text, ok in checks)


def _failed(r: dict[str, Any]) -> bool:
    return "error" in r or not r.get("correct") or any(r.get(k) == 0 for k, _ in TIME_METRICS)


def _failing(records: list[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        if not _failed(r):
            continue
        facts = "".join(f'<li class="{"ok" if f["in_answer"] else "miss"}" dir="auto">'
                        f'{"✓" if f["in_answer"] else "✗"} {esc(" | ".join(f["forms"]))}</li>'
                        for f in r.get("facts", []))
        answer = r.get("answer", {})
        cites = "".join(f'<li dir="auto"><b>[{c["n"]}] {esc(c["source"])}</b> <small>{esc(c.get("date") or "undated")}'
                        f'</small> {esc(c["text"][:400])}</li>' for c in answer.get("citations", []))
        expected = ("refusal (not in the articles)" if not r["answerable"] else f"<ul>{facts}</ul>") + \
            (f"<ul>{_time_expected(r)}</ul>" if r.get("time_bound") else "")
        rows.append(
            f'<tr><td>{esc(r["id"])}<br><small>{esc(", ".join(r["tags"]))}</small></td>'
            f'<td dir="auto">{esc(r["question"])}</td><td>{expected}</td>'
            f'<td dir="auto">{esc(r.get("error") or answer.get("answer", ""))}</td>'
            f'<td><ol class="cites">{cites}</ol><small>gold: {esc(", ".join(r["sources"]) or "–")}<br>'
            f'retrieved: {esc(", ".join(r.get("ranked_sources", [])[:5]))}</small></td></tr>')
    if not rows:
        return "<p>Every question passed.</p>"
    return ("<table class=\"fail\"><tr><th>id</th><th>question</th><th>expected</th><th>answer</th>"
            f"<th>citations</th></tr>{''.join(rows)}</table>")


def _comparison(comparison: dict[str, Any]) -> str:
    rows = []
    for run in comparison["runs"]:
        for group, deltas in run["groups"].items():
            for d in deltas:
                rows.append(f'<tr class="{"worse" if d["worse"] else "better"}"><td>{esc(run["label"])}</td>'
                            f'<td>{group}</td><td>{esc(d["label"])}</td><td>{fmt(d["before"])}</td>'
                            f'<td>{fmt(d["after"])}</td><td>{"worse" if d["worse"] else "better"}</td></tr>')
    flips = "".join(
        f'<p><b>{esc(run["label"])}</b> now failing: <span class="worse">{esc(", ".join(run["newly_failing"]) or "none")}'
        f'</span>; now passing: {esc(", ".join(run["newly_passing"]) or "none")}</p>' for run in comparison["runs"])
    table = ("<table><tr><th>config</th><th>group</th><th>metric</th><th>before</th><th>now</th><th></th></tr>"
             + "".join(rows) + "</table>") if rows else "<p>No metric changed.</p>"
    return (f"<h2>Since the run of {esc(comparison['baseline_created'])}</h2>{table}{flips}"
            + (f"<p>Configurations no longer run: {esc(', '.join(comparison['missing']))}</p>"
               if comparison["missing"] else ""))


CSS = """
body{font-family:"Noto Naskh Arabic","Noto Sans Arabic","DejaVu Sans",Arial,sans-serif;margin:24px;color:#212529;line-height:1.5}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #dee2e6;padding:4px 8px;vertical-align:top;text-align:start}
td[dir=auto]{unicode-bidi:plaintext;max-width:36em}.fail td{font-size:14px}.fail td:nth-child(4){min-width:22em}
.chart{margin:8px 16px 8px 0;font-size:11px}.ct{font-weight:bold;font-size:13px}.tick{fill:#495057}.grid{stroke:#e9ecef}
.na{fill:#adb5bd}.ok{color:#2b8a3e}.miss,.worse,.fail-gate{color:#c92a2a}.better,.pass-gate{color:#2b8a3e}
tr.worse td{background:#fff5f5}ul,ol{margin:0;padding-inline-start:18px}small{color:#868e96}
"""


def _time_html(result: dict[str, Any], run: dict[str, Any]) -> str:
    """The time-bound questions of a run: their scores by language and kind, and the ones that failed."""
    summary = run["summary"]
    if not summary.get("time", {}).get("questions"):
        return ""
    charted = ["fact_accuracy", "refusal_accuracy", "in_period", "latest_first", "timeline"]
    labels = dict(ALL_METRICS)
    kinds = time_kinds(run)
    news = run.get("news")
    covers = (f"the seeds and {news['stats'].get('articles')} news-ar articles read on {result['news']['today']}"
              if news else f"the seeds only ({result.get('news_skipped', 0)} news-ar questions need --news)")
    return (f"<h3>Time-bound questions</h3><p>{summary['time']['questions']} questions on {esc(covers)}</p>"
            + bar_chart(f"{run['label']}: time scores by language", [labels[k] for k in charted],
                        {name: [summary[g][k] for k in charted] for name, g in zip(("overall", "ar", "en"), TIME_GROUPS)})
            + bar_chart(f"{run['label']}: time scores by kind", [kind for kind, _ in kinds],
                        {labels[k]: [s[k] for _, s in kinds] for k in ("fact_accuracy", "in_period")})
            + _metrics_table(run, TIME_GROUPS, TIME_TABLE)
            + "<h3>Failing time-bound questions</h3>" + _failing([r for r in run["records"] if r.get("time_bound")]))


def render_html(result: dict[str, Any]) -> str:
    parts = [f"<h1>newsqa evaluation</h1><p>{esc(result['created'])} · {esc(', '.join(result['files']))} · "
             f"{esc(result['seconds'])} s · embedder {esc(result['settings']['embedder'])}"
             + (f" · first {result['limit']} questions" if result.get("limit") else "") + "</p>"]
    gates = result.get("gates", [])
    if gates:
        parts.append("<h2>Gates</h2><table><tr><th></th><th>scope</th><th>metric</th><th>value</th><th>gate</th></tr>"
                     + "".join(f'<tr><td class="{"pass-gate" if g["passed"] else "fail-gate"}">'
                               f'{"PASS" if g["passed"] else "FAIL"}</td><td>{esc(g["scope"])}</td>'
                               f'<td>{esc(g["metric"])}</td><td>{fmt(g["value"])}</td>'
                               f'<td>{g["op"]} {g["bound"]}</td></tr>' for g in gates) + "</table>")
    if result.get("comparison"):
        parts.append(_comparison(result["comparison"]))
    labels = dict(SHARE_METRICS)
    for run in result["runs"]:
        summary = run["summary"]
        tags = [g for g in summary if g.startswith("tag:")]
        parts.append(
            f"<h2>{esc(run['label'])}</h2><p>{esc(run['stats'].get('articles'))} articles · "
            f"{esc(run['stats'].get('passages'))} passages · {run['seconds']} s</p>"
            + bar_chart(f"{run['label']}: metrics by language", [labels[k] for k in CHART_METRICS],
                        {g: [summary[g][k] for k in CHART_METRICS] for g in ("overall", "ar", "en")})
            + bar_chart(f"{run['label']}: accuracy by question type (refusals for unanswerable types)",
                        [t[4:] for t in tags],
                        {"overall": [summary[t]["fact_accuracy"] if summary[t]["fact_accuracy"] is not None
                                     else summary[t]["refusal_accuracy"] for t in tags]})
            + histogram(f"{run['label']}: answer latency", [r["latency_ms"] for r in run["records"] if "latency_ms" in r])
            + _metrics_table(run) + "<h3>Failing questions</h3>"
            + _failing([r for r in run["records"] if not r.get("time_bound")]) + _time_html(result, run))
    squad = result.get("squad")
    if squad:
        modes = list(squad["retrieval"])
        parts.append(
            f"<h2>SQuAD-format set</h2><p>{esc(squad['file'])}: {squad['paragraphs']} paragraphs, "
            f"{squad['questions']} questions, {squad['seconds']} s</p>"
            + bar_chart("paragraph retrieval", [label for _, label in SQUAD_RETRIEVAL],
                        {mode: [squad["retrieval"][mode][k] for k, _ in SQUAD_RETRIEVAL] for mode in modes})
            + "<table><tr><th>retrieval</th>" + "".join(f"<th>{label}</th>" for _, label in SQUAD_RETRIEVAL) + "</tr>"
            + "".join(f"<tr><td>{mode}</td>" + "".join(f"<td>{fmt(squad['retrieval'][mode][k])}</td>"
                                                        for k, _ in SQUAD_RETRIEVAL) + "</tr>" for mode in modes)
            + "</table><p>answers (" + esc(squad["answer_config"]) + "): "
            + ", ".join(f"{label} {fmt(squad['answers'][k])}" for k, label in SQUAD_ANSWERS) + "</p>"
            + (f"<p><strong>{esc(IN_SAMPLE)}</strong></p>" if squad.get("short_answer_in_sample") else ""))
        if "translated" in squad:
            caption, header, rows = _translated(squad)
            parts.append(f"<p>{esc(caption)}</p><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header)
                         + "</tr>" + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
                         + "</table>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>newsqa evaluation</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")


def write_html(result: dict[str, Any], path: Path) -> None:
    path.write_text(render_html(result), encoding="utf-8")
