"""Scripted Q&A evaluation: question sets, metrics, the runner and its reports.

`python -m app eval` (see `runner.py`) checks answers against the articles so
every change to the engine can be measured instead of guessed.
"""
