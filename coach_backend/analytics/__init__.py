"""Exercise analytics from the body's outputs: joint angles, reps (count, range of motion,
tempo) and comparison of an attempt with a reference by dynamic time warping.

Data flows one way: these modules read joints / SMPL rotations (or files the body wrote) and
nothing in the body or perception layers reads them. See docs/analytics.md.

    from coach_backend.analytics import joint_angles, exercise_reps, compare, load_track
    angles = joint_angles(joints_y_up, rest_joints)            # (T, NUM_ANGLES) degrees
    reps = exercise_reps(angles, times, exercise="squat").reps  # count, ROM, tempo per rep
    result = compare(load_track("ref/smpl.npz"), load_track("try/smpl.npz"))
    session = analyse_session(load_track("out/clip/session.coachrec"))  # a take's summary

Live sessions count reps with :class:`LiveRepCounter` (the same rep rule, as frames arrive).
"""

from coach_backend.analytics.angles import (
    ANGLE_INDEX,
    ANGLE_NAMES,
    ANGLES,
    NUM_ANGLES,
    UP_Y,
    AngleDef,
    angles_from_rotations,
    camera_to_y_up,
    joint_angles,
    rest_offsets,
)
from coach_backend.analytics.comparison import (
    COMPARED_ANGLES,
    DEFAULT_SEGMENTS,
    AngleTrack,
    Comparison,
    PhaseDiff,
    Worst,
    angle_title,
    compare,
    reference_phases,
)
from coach_backend.analytics.dtw import DtwResult, dtw, pairwise_distance, warp_to_reference
from coach_backend.analytics.live import EXERCISE_CHOICES, LiveRepCounter, rep_status
from coach_backend.analytics.reps import (
    AUTO,
    EXERCISE_DRIVERS,
    EXERCISES,
    PHASE_NAMES,
    ExerciseReps,
    Rep,
    RepRule,
    auto_exercise,
    detect_reps,
    driver_signal,
    exercise_reps,
)
from coach_backend.analytics.session import (
    KeyMoment,
    SessionAnalysis,
    analyse_recording,
    analyse_session,
    analyse_take,
    driver_title,
)
from coach_backend.analytics.sources import load_track, track_from_joints

__all__ = [
    "ANGLES",
    "ANGLE_INDEX",
    "ANGLE_NAMES",
    "AUTO",
    "COMPARED_ANGLES",
    "DEFAULT_SEGMENTS",
    "EXERCISES",
    "EXERCISE_CHOICES",
    "EXERCISE_DRIVERS",
    "NUM_ANGLES",
    "PHASE_NAMES",
    "UP_Y",
    "AngleDef",
    "AngleTrack",
    "Comparison",
    "DtwResult",
    "ExerciseReps",
    "KeyMoment",
    "LiveRepCounter",
    "PhaseDiff",
    "Rep",
    "RepRule",
    "SessionAnalysis",
    "Worst",
    "analyse_recording",
    "analyse_session",
    "analyse_take",
    "angle_title",
    "angles_from_rotations",
    "auto_exercise",
    "camera_to_y_up",
    "compare",
    "detect_reps",
    "driver_signal",
    "driver_title",
    "dtw",
    "exercise_reps",
    "joint_angles",
    "load_track",
    "pairwise_distance",
    "reference_phases",
    "rep_status",
    "rest_offsets",
    "track_from_joints",
    "warp_to_reference",
]
