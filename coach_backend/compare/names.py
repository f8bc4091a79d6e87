"""File names, input suffixes and exercise choices of the session report, in a module of their
own (standard library only): the CLIs (compare, replay) check their arguments with them before
importing anything heavy. Tests check they equal the analytics' own lists."""

from __future__ import annotations

REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.json"
OUTPUT_NAMES = (REPORT_NAME, SUMMARY_NAME)
INPUT_SUFFIXES = (".npz", ".coachrec")  # = coach_backend.analytics.sources.SUFFIXES
EXERCISE_CHOICES = ("auto", "squat", "lunge", "jumping_jack", "push_up")  # = analytics'
DEFAULT_SEGMENTS = 4  # = coach_backend.analytics.DEFAULT_SEGMENTS
