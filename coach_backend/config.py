"""Defaults that more than one layer names, in one place. Standard library only: the CLIs show
them in `--help` without importing torch."""

# Offline (files, `reconstruct_from_keypoints`): steps of the short 2D fit after the network.
# On the real-footage benchmark (benchmarks/bench_real.py) 10 steps took single-view 3D from
# 79.3 to 71.2 mm and ground-truth-2D lifting from 83.7 to 70.8 mm; 30 steps gave < 1 mm more
# at 2-3x the cost. Live runs the network alone (0).
OFFLINE_REFINE_STEPS = 10

# Offline fit: pull of MediaPipe's world landmarks (similarity-aligned to the network's answer)
# on the body during the per-frame fit (`fit_lifted_to_keypoints`); 0 = none. Their errors are
# not the network's, so the pair beats either. On the Pose2Sim views (bench_real, single-view
# PA-MPJPE, same runs): pull 0 / 0.5 / 1 gave 68.7 / 68.0 / 68.0 mm for the 10-step fit and
# 67.6 / 66.5 / 65.6 mm on the replay's file path, but at 1 the fit's 2D PCK@5 % fell to 89.7 %
# on one view (the 2D bar is >= 90 % on every clip); 0.5 keeps every clip >= 90.9 %. Pulls of
# 2-3 were worse in 3D. Keypoints users bring have no 3D and are unaffected.
DETECTOR_3D_PULL = 0.5

# Replay: 2D-fit steps that lay the zero-phase smoothed bodies back onto each frame's keypoints
# (`settle_on_keypoints`). Smoothing alone moved limbs off the person (median 2D error on the
# Pose2Sim views 1.5 -> up to 3.4 % of height); 15 steps after the per-frame fit gave medians
# of 1.3-2.0 % on every real clip (5 steps: up to 2.9 %) and single-view 3D of 68.9 mm
# (71.2 mm unsmoothed).
SETTLE_STEPS = 15
