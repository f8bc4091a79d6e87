"""Compare an attempt with a reference movement and write a report.

``python -m coach_backend.compare REFERENCE ATTEMPT --report OUT/`` (see ``__main__``); the
analysis itself is coach_backend.analytics, the page coach_backend.compare.report.
"""
