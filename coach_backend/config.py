"""Defaults that more than one layer names, in one place. Standard library only: the CLIs show
them in `--help` without importing torch."""

# Offline (files, `reconstruct_from_keypoints`): steps of the short 2D fit after the network.
# On the real-footage benchmark (benchmarks/bench_real.py) 10 steps took single-view 3D from
# 79.3 to 71.2 mm and ground-truth-2D lifting from 83.7 to 70.8 mm; 30 steps gave < 1 mm more
# at 2-3x the cost. Live runs the network alone (0).
OFFLINE_REFINE_STEPS = 10

# Offline fit: pull of MediaPipe's world landmarks (similarity-aligned to the network's answer)
# on the body during the per-frame fit (`fit_lifted_to_keypoints`); 0 = none. Their errors are
# not the network's, so the pair beats either: on the Pose2Sim views (bench_real's single-view
# PA-MPJPE, one run) 10-step fit 68.7 -> 68.0 mm and the replay's file path 67.6 -> 65.6 mm;
# pulls of 2-3 were worse (68.8-69.7). Keypoints users bring have no 3D and are unaffected.
DETECTOR_3D_PULL = 1.0

# Replay: 2D-fit steps that lay the zero-phase smoothed bodies back onto each frame's keypoints
# (`settle_on_keypoints`). Smoothing alone moved limbs off the person (median 2D error on the
# Pose2Sim views 1.5 -> up to 3.4 % of height); 15 steps after the per-frame fit gave medians
# of 1.3-2.0 % on every real clip (5 steps: up to 2.9 %) and single-view 3D of 68.9 mm
# (71.2 mm unsmoothed).
SETTLE_STEPS = 15
