"""The session report (one writer): a take's reps, joint angles and key frames, and its
comparison with a reference movement when one is given.

``python -m coach_backend.compare [REFERENCE] TAKE --report OUT/`` (see ``__main__``); the
replay writes the same report at its end. The analysis itself is coach_backend.analytics, the
page coach_backend.compare.report.
"""
