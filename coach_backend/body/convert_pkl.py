"""Convert an original SMPL ``.pkl`` into a chumpy-free ``.npz`` once.

    python -m coach_backend.body.convert_pkl SMPL_NEUTRAL.pkl \\
        --out coach_backend/models/smpl/SMPL_NEUTRAL.npz

The official SMPL pickles hold some arrays as chumpy objects, and chumpy no longer imports
on modern numpy. Unpickling here swaps every chumpy class for a small stand-in that keeps
the pickled state, then reads the array out of it; chumpy itself is never imported.
"""

# numpy is imported where it is used: `--help` answers before it loads.
from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach_backend.body.model_paths import SMPL_NEUTRAL_PATH

if TYPE_CHECKING:
    import numpy as np

KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


class _ChumpyStandIn:
    """Takes the place of any chumpy class during unpickling and keeps its state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def to_array(self) -> np.ndarray:
        # chumpy's Ch pickles its value under 'x'; derived nodes keep it in 'a' (e.g. Select).
        state = self.state if isinstance(self.state, dict) else {}
        for key in ("x", "a"):
            if key in state:
                return _to_array(state[key])
        raise ValueError(
            f"cannot read an array out of a pickled chumpy object (keys {list(state)})"
        )


class _ChumpyFreeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] == "chumpy":
            return _ChumpyStandIn
        return super().find_class(module, name)


def _to_array(value: Any) -> np.ndarray:
    import numpy as np

    if isinstance(value, _ChumpyStandIn):
        return value.to_array()
    if hasattr(value, "toarray"):  # scipy sparse (J_regressor)
        return np.asarray(value.toarray())
    return np.asarray(value)


def read_smpl_pickle(path: Path) -> dict[str, np.ndarray]:
    """The SMPL arrays of a pickle, chumpy-free."""
    import numpy as np

    try:
        with path.open("rb") as handle:
            raw = _ChumpyFreeUnpickler(handle, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise ValueError(f"{path} is not a readable SMPL pickle: {error}") from error
    if not isinstance(raw, dict):
        raise ValueError(f"{path} does not hold an SMPL model dictionary")
    missing = [key for key in KEYS if key not in raw]
    if missing:
        raise ValueError(f"{path} is missing SMPL keys {missing}")
    arrays = {key: _to_array(raw[key]) for key in KEYS}
    arrays["f"] = arrays["f"].astype(np.int32)
    arrays["kintree_table"] = arrays["kintree_table"].astype(np.int64)
    for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights"):
        arrays[key] = arrays[key].astype(np.float32)
    return arrays


def convert(source: Path, target: Path) -> Path:
    import numpy as np

    arrays = read_smpl_pickle(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(target, **arrays)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert an SMPL .pkl to a chumpy-free .npz")
    parser.add_argument("pkl", type=Path, help="original SMPL pickle, e.g. SMPL_NEUTRAL.pkl")
    parser.add_argument("--out", type=Path, default=SMPL_NEUTRAL_PATH, help="output .npz")
    args = parser.parse_args(argv)
    if not args.pkl.is_file():
        parser.error(f"{args.pkl} does not exist")
    try:
        out = convert(args.pkl, args.out)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"wrote {out}; coach_backend now uses it in place of the open body")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
