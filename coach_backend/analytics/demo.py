"""Demo takes for the comparison: a reference squat set and an attempt that is slower, unevenly
paced and bends the knees 20 deg less, written as replay results (docs/replay_format.md).

    python -m coach_backend.analytics.demo --out out/compare_demo
    python -m coach_backend.compare out/compare_demo/reference/smpl.npz \\
        out/compare_demo/attempt/smpl.npz --report out/compare_demo/report
"""

# The takes (numpy, the body model) are built in demo_takes, imported once the arguments are
# parsed: `--help` answers before numpy and torch load.
from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coach_backend.analytics.demo")
    parser.add_argument("--out", type=Path, required=True, help="folder for the two takes")
    args = parser.parse_args(argv)
    from coach_backend.analytics.demo_takes import squat_take, write_replay_npz

    ref = write_replay_npz(args.out / "reference" / "smpl.npz", *squat_take(seed=1))
    att = write_replay_npz(
        args.out / "attempt" / "smpl.npz",
        *squat_take(speed=0.7, knee_deg=90.0, seed=2, wobble=0.05),
    )
    print(f"wrote {ref}\nwrote {att}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
