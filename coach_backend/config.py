"""Defaults that more than one layer names, in one place. Standard library only: the CLIs show
them in `--help` without importing torch."""

# Offline (files, `reconstruct_from_keypoints`): steps of the short 2D fit after the network.
# On the real-footage benchmark (benchmarks/bench_real.py) 10 steps took single-view 3D from
# 79.3 to 71.2 mm and ground-truth-2D lifting from 83.7 to 70.8 mm; 30 steps gave < 1 mm more
# at 2-3x the cost. Live runs the network alone (0).
OFFLINE_REFINE_STEPS = 10

# Offline paths (replay, `reconstruct_from_keypoints`): whether the lifter's pose is averaged
# with the mirror image of its pose for the left/right mirrored keypoints
# (`coach_backend.gcssn.lifter.mirror_averaged`, test-time flip augmentation). It gained ~0.4 mm
# with the previous default lifter on MediaPipe's keypoints, but with the current one (trained
# with sampled squat, sit and lunge legs and raised arms) it did not pay on real footage
# (bench_real, Pose2Sim views, 2026-12-07 20:27 run): replay's file path 67.1 mm either way,
# well-triangulated frames 57.4 without against 58.4 with, ground-truth 2D + fit 62.9 / 64.7.
# Live never had room for twice the network.
OFFLINE_MIRROR_AVERAGE = False

# Offline fit: pull of MediaPipe's world landmarks (similarity-aligned to the network's answer)
# on the body during the per-frame fit (`fit_lifted_to_keypoints`); 0 = none. With earlier
# lifters their errors were not the network's, so the pair beat either. On the Pose2Sim views
# (bench_real, single-view
# PA-MPJPE; runs with the frames shrunk to 960 px before MediaPipe, each comparison within one
# run): pull 0 / 0.5 / 1 gave 68.7 / 68.0 / 68.0 mm for the 10-step fit and 67.6 / 66.5 / 65.6
# mm on the replay's file path, but at 1 the fit's 2D PCK@5 % fell to 89.7 % on one view (the
# 2D bar is >= 90 % on every clip); 0.5 kept every clip >= 90.9 %. Pulls of 2-3 were worse in
# 3D. At native resolution, 0.5 vs 0: fit 71.0 vs 71.9, replay 69.4 vs 70.6 mm
# (benchmarks/results/real.md). Keypoints users bring have no 3D and are unaffected. With the
# current lifter (2026-12-07) it is a wash: 0.5 vs 0 at 960 px gave fit 65.4 vs 64.8 and replay
# 64.0 vs 64.2 mm (well-triangulated frames 57.3 vs 56.9); at native 68.6 vs 68.2 and 67.1 vs
# 67.2. Kept at 0.5: no difference either way that this benchmark can tell.
DETECTOR_3D_PULL = 0.5

# Replay: 2D-fit steps that lay the zero-phase smoothed bodies back onto each frame's keypoints
# (`settle_on_keypoints`). Smoothing alone moved limbs off the person (median 2D error on the
# Pose2Sim views 1.5 -> up to 3.4 % of height); 15 steps after the per-frame fit gave medians
# of 1.3-2.0 % on every real clip (5 steps: up to 2.9 %) and single-view 3D of 68.9 mm
# (71.2 mm unsmoothed).
SETTLE_STEPS = 15

# Perception resolution of the replay: frames whose long side is larger are shrunk to this many
# pixels (cv2 INTER_AREA) before MediaPipe (`--perception-max-side`); keypoints and outputs stay
# in the video's own pixels. None: native. Why 960: BlazePose's models read 224-256 px crops
# whatever the frame, but the graph's copies and conversions of the whole frame grow with it.
# The gain is modest: on the 2-core VM MediaPipe took 27.1 -> 25.1 ms a 1080p frame, 42.4 ->
# 38.8 ms a 4K one (a quiet run; 61 -> 41 ms at 1080p in a busy one), while 1280 was slower
# than native and 640 no faster than 960 (benchmarks/results/phone.md); 1080p and 4K shrink
# to 960 by whole factors (2x, 4x: a 0.7 ms resize). On real
# footage (benchmarks/results/phone.md, from benchmarks/bench_real.py) 960 kept the replay
# path's single-view 3D at 66.5 mm (69.4 at native, the reference moving with it) and its 2D
# alignment on every video clip within 0.1 % of the person's height of native's; only the
# 24-megapixel lunge photo, shrunk 6x, lost a little (1.4 -> 1.6 %).
REPLAY_PERCEPTION_MAX_SIDE: int | None = 960

# Perception resolution of live sessions (and `PerceptionConfig`'s default): native. Why: live
# camera frames are 640x480-1280x720, where shrinking did not pay: at 1280x720 on the 2-core VM
# one live session kept 21.0 and 23.4 fps at native size against 18.1 and 19.0 fps shrunk to
# 960 (benchmarks/bench_live.py, two runs each, busy machine): MediaPipe alone was no faster on
# the smaller frame and a 4/3 INTER_AREA resize costs 6 ms a frame.
LIVE_PERCEPTION_MAX_SIDE: int | None = None

# Live: each session's MediaPipe graph is built and run once on a blank frame of this size
# (width, height) when the session is created (`SessionPipeline.warm_up`), before its athlete's
# first frame arrives. Why: a new graph's first inference took 150-300 ms on the loaded 2-core
# VM, the next ones 20-60 ms, and it was most of a session's wait for its first pose: with the
# warm-up, first frame received -> first pose published went from a median 303 to 71 ms (485 to
# 93 ms for a session created as the server starts; `bench_live.py --first-pose 5`, load 5-6).
# 640x480: the usual camera frame (a camera given in `PerceptionConfig` sets the size instead).
LIVE_WARM_UP_FRAME: tuple[int, int] = (640, 480)
