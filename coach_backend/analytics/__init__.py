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

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.analytics.angles import ANGLE_INDEX as ANGLE_INDEX
    from coach_backend.analytics.angles import ANGLE_NAMES as ANGLE_NAMES
    from coach_backend.analytics.angles import ANGLES as ANGLES
    from coach_backend.analytics.angles import NUM_ANGLES as NUM_ANGLES
    from coach_backend.analytics.angles import UP_Y as UP_Y
    from coach_backend.analytics.angles import AngleDef as AngleDef
    from coach_backend.analytics.angles import angles_from_rotations as angles_from_rotations
    from coach_backend.analytics.angles import camera_to_y_up as camera_to_y_up
    from coach_backend.analytics.angles import joint_angles as joint_angles
    from coach_backend.analytics.angles import rest_offsets as rest_offsets
    from coach_backend.analytics.comparison import COMPARED_ANGLES as COMPARED_ANGLES
    from coach_backend.analytics.comparison import DEFAULT_SEGMENTS as DEFAULT_SEGMENTS
    from coach_backend.analytics.comparison import AngleTrack as AngleTrack
    from coach_backend.analytics.comparison import Comparison as Comparison
    from coach_backend.analytics.comparison import PhaseDiff as PhaseDiff
    from coach_backend.analytics.comparison import Worst as Worst
    from coach_backend.analytics.comparison import angle_title as angle_title
    from coach_backend.analytics.comparison import compare as compare
    from coach_backend.analytics.comparison import reference_phases as reference_phases
    from coach_backend.analytics.dtw import DtwResult as DtwResult
    from coach_backend.analytics.dtw import dtw as dtw
    from coach_backend.analytics.dtw import pairwise_distance as pairwise_distance
    from coach_backend.analytics.dtw import warp_to_reference as warp_to_reference
    from coach_backend.analytics.live import EXERCISE_CHOICES as EXERCISE_CHOICES
    from coach_backend.analytics.live import LiveRepCounter as LiveRepCounter
    from coach_backend.analytics.live import rep_status as rep_status
    from coach_backend.analytics.reps import AUTO as AUTO
    from coach_backend.analytics.reps import EXERCISE_DRIVERS as EXERCISE_DRIVERS
    from coach_backend.analytics.reps import EXERCISES as EXERCISES
    from coach_backend.analytics.reps import PHASE_NAMES as PHASE_NAMES
    from coach_backend.analytics.reps import ExerciseReps as ExerciseReps
    from coach_backend.analytics.reps import Rep as Rep
    from coach_backend.analytics.reps import RepRule as RepRule
    from coach_backend.analytics.reps import auto_exercise as auto_exercise
    from coach_backend.analytics.reps import detect_reps as detect_reps
    from coach_backend.analytics.reps import driver_signal as driver_signal
    from coach_backend.analytics.reps import exercise_reps as exercise_reps
    from coach_backend.analytics.session import KeyMoment as KeyMoment
    from coach_backend.analytics.session import SessionAnalysis as SessionAnalysis
    from coach_backend.analytics.session import analyse_recording as analyse_recording
    from coach_backend.analytics.session import analyse_session as analyse_session
    from coach_backend.analytics.session import analyse_take as analyse_take
    from coach_backend.analytics.session import driver_title as driver_title
    from coach_backend.analytics.sources import load_track as load_track
    from coach_backend.analytics.sources import track_from_joints as track_from_joints

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "angles": (
            "ANGLE_INDEX",
            "ANGLE_NAMES",
            "ANGLES",
            "NUM_ANGLES",
            "UP_Y",
            "AngleDef",
            "angles_from_rotations",
            "camera_to_y_up",
            "joint_angles",
            "rest_offsets",
        ),
        "comparison": (
            "COMPARED_ANGLES",
            "DEFAULT_SEGMENTS",
            "AngleTrack",
            "Comparison",
            "PhaseDiff",
            "Worst",
            "angle_title",
            "compare",
            "reference_phases",
        ),
        "dtw": ("DtwResult", "dtw", "pairwise_distance", "warp_to_reference"),
        "live": ("EXERCISE_CHOICES", "LiveRepCounter", "rep_status"),
        "reps": (
            "AUTO",
            "EXERCISE_DRIVERS",
            "EXERCISES",
            "PHASE_NAMES",
            "ExerciseReps",
            "Rep",
            "RepRule",
            "auto_exercise",
            "detect_reps",
            "driver_signal",
            "exercise_reps",
        ),
        "session": (
            "KeyMoment",
            "SessionAnalysis",
            "analyse_recording",
            "analyse_session",
            "analyse_take",
            "driver_title",
        ),
        "sources": ("load_track", "track_from_joints"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
