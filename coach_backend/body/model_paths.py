"""The body model files' names and default paths. Standard library only: the body tools' `--help`
shows them without importing torch (``body.model`` loads the files)."""

from __future__ import annotations

from coach_backend.resources import model_path, smpl_dir

OPEN_BODY_FILE = "open_body.npz"
SMPL_NEUTRAL_FILE = "SMPL_NEUTRAL.npz"
# Defaults as resolved at import; `resolve_model_path` re-reads the environment on each call.
OPEN_BODY_PATH = model_path(OPEN_BODY_FILE)
# Where users put real SMPL files (converted with `python -m coach_backend.body.convert_pkl`).
SMPL_DIR = smpl_dir()
SMPL_NEUTRAL_PATH = SMPL_DIR / SMPL_NEUTRAL_FILE
