"""Scripted Q&A evaluation: question sets, metrics, the runner and its reports.

`python -m app eval` (see `runner.py`) checks answers against the articles so
every change to the engine can be measured instead of guessed. `configs.py`
turns the options into the configurations to compare, `scoring.py` asks and
scores the questions (the time-bound ones on time too), `news.py` writes the
news-ar subset the time questions are asked on, `squad.py` runs SQuAD-format
sets, `gates.py` holds the thresholds, and `report.py` writes what was measured.
"""
