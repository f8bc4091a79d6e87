using System;
using System.Collections.Generic;

namespace CoachBridge.Core
{
    /// <summary>
    /// Plays a reference motion (a recorded session, see <see cref="CoachRecording"/>) on the
    /// timeline of the attempt it is compared with, for a second "ghost" avatar.
    ///
    /// Reference seconds are counted from the reference's first frame. Without a time map,
    /// attempt time <c>a</c> shows reference second <c>Offset + Speed * a</c>. With a time map
    /// (<see cref="SetTimeMap"/>: attempt seconds -> reference seconds, e.g. from the DTW alignment
    /// the backend computes between the two recordings), the map decides and Offset/Speed are
    /// not used. The reference second is then wrapped into the reference (<see cref="Loop"/>; the
    /// loop period is first to last frame, so the last frame leads straight into the first) or
    /// clamped to it, where the pose holds the first or last frame.
    ///
    /// Between frames the pose is interpolated (slerp/lerp) as <see cref="JitterBuffer"/> does:
    /// not across gaps longer than <see cref="MaxInterpolationGap"/> nor into a frame without a
    /// person; a frame without a person gives <see cref="SampleState.NoPerson"/>. In the result,
    /// <c>FromSequence</c>/<c>ToSequence</c> are frame indices into the reference and
    /// <c>TargetTime</c> is the reference second shown (on the reference's own time base).
    /// Stateless between calls: any attempt time can be sampled in any order (seeking is free).
    /// </summary>
    public sealed class ReferencePlayer
    {
        private readonly double[] times;
        private readonly PoseFrame[] poses;
        private double[] mapAttempt;
        private double[] mapReference;
        private double offset;
        private double speed = 1.0;
        private double maxInterpolationGap = 0.5;

        /// <param name="frameTimes">Capture time of each frame in seconds (any origin; sorted here if needed).</param>
        /// <param name="framePoses">The decoded pose of each frame.</param>
        public ReferencePlayer(IReadOnlyList<double> frameTimes, IReadOnlyList<PoseFrame> framePoses)
        {
            if (frameTimes == null) throw new ArgumentNullException("frameTimes");
            if (framePoses == null) throw new ArgumentNullException("framePoses");
            if (frameTimes.Count != framePoses.Count)
            {
                throw new ArgumentException(frameTimes.Count + " frame times for " + framePoses.Count + " poses");
            }
            if (frameTimes.Count == 0)
            {
                throw new ArgumentException("the reference has no frames", "framePoses");
            }
            var order = new List<int>(frameTimes.Count);
            for (int i = 0; i < frameTimes.Count; i++)
            {
                if (!IsFinite(frameTimes[i])) throw new ArgumentException("frame time " + i + " is not finite", "frameTimes");
                if (framePoses[i] == null) throw new ArgumentException("pose " + i + " is null", "framePoses");
                order.Add(i);
            }
            // A recording is written in capture order; sort anyway (stable) so a stray
            // out-of-order frame cannot break the search below.
            order.Sort((i, j) => frameTimes[i] != frameTimes[j] ? frameTimes[i].CompareTo(frameTimes[j]) : i.CompareTo(j));
            times = new double[order.Count];
            poses = new PoseFrame[order.Count];
            for (int k = 0; k < order.Count; k++)
            {
                times[k] = frameTimes[order[k]];
                poses[k] = framePoses[order[k]];
            }
        }

        /// <summary>Plays the frames of a recording (times from its first frame).</summary>
        public ReferencePlayer(CoachRecording recording)
            : this(Require(recording).FrameTimes, recording.Poses) { }

        public int Count { get { return times.Length; } }

        /// <summary>Time of the first frame (reference time base).</summary>
        public double StartTime { get { return times[0]; } }

        /// <summary>First to last frame, in seconds.</summary>
        public double Duration { get { return times[times.Length - 1] - times[0]; } }

        /// <summary>Reference second shown at attempt time 0 (negative: the first frame is held that long).</summary>
        public double Offset
        {
            get { return offset; }
            set
            {
                if (!IsFinite(value)) throw new ArgumentOutOfRangeException("value", "offset must be finite");
                offset = value;
            }
        }

        /// <summary>Reference seconds per attempt second (1 = as recorded; 0.5 = half speed).</summary>
        public double Speed
        {
            get { return speed; }
            set
            {
                if (!IsFinite(value) || value <= 0) throw new ArgumentOutOfRangeException("value", "speed must be positive");
                speed = value;
            }
        }

        /// <summary>Wrap around at the end (otherwise the last frame is held).</summary>
        public bool Loop { get; set; }

        /// <summary>Largest gap between neighbouring frames that is interpolated across (seconds; default 0.5).</summary>
        public double MaxInterpolationGap
        {
            get { return maxInterpolationGap; }
            set
            {
                if (!IsFinite(value) || value <= 0) throw new ArgumentOutOfRangeException("value", "gap must be positive");
                maxInterpolationGap = value;
            }
        }

        public bool HasTimeMap { get { return mapAttempt != null; } }

        /// <summary>
        /// Lets an explicit alignment drive the reference: pairs (attempt second, reference
        /// second), attempt seconds non-decreasing. Between pairs the map is linear; before the
        /// first and after the last pair it holds the end value. Pairs with the same attempt second
        /// (an alignment path that advances only in the reference) are merged into their mean.
        /// </summary>
        public void SetTimeMap(IReadOnlyList<double> attemptTimes, IReadOnlyList<double> referenceTimes)
        {
            if (attemptTimes == null) throw new ArgumentNullException("attemptTimes");
            if (referenceTimes == null) throw new ArgumentNullException("referenceTimes");
            if (attemptTimes.Count != referenceTimes.Count || attemptTimes.Count == 0)
            {
                throw new ArgumentException("a time map needs as many reference times as attempt times, at least one");
            }
            var attempt = new List<double>();
            var reference = new List<double>();
            int runLength = 0;
            for (int i = 0; i < attemptTimes.Count; i++)
            {
                double a = attemptTimes[i], r = referenceTimes[i];
                if (!IsFinite(a) || !IsFinite(r)) throw new ArgumentException("time map pair " + i + " is not finite");
                if (i > 0 && a < attemptTimes[i - 1])
                {
                    throw new ArgumentException("time map attempt times must not decrease (pair " + i + ")");
                }
                if (i > 0 && a == attemptTimes[i - 1])
                {
                    runLength++; // running mean of the pairs at this attempt second
                    reference[reference.Count - 1] += (r - reference[reference.Count - 1]) / runLength;
                    continue;
                }
                attempt.Add(a);
                reference.Add(r);
                runLength = 1;
            }
            mapAttempt = attempt.ToArray();
            mapReference = reference.ToArray();
        }

        /// <summary>Back to Offset + Speed * attempt time.</summary>
        public void ClearTimeMap()
        {
            mapAttempt = null;
            mapReference = null;
        }

        /// <summary>Reference second (from the first frame) for an attempt time, before looping or clamping.</summary>
        public double MapTime(double attemptTime)
        {
            if (mapAttempt == null)
            {
                return offset + speed * attemptTime;
            }
            int last = mapAttempt.Length - 1;
            if (attemptTime <= mapAttempt[0]) return mapReference[0];
            if (attemptTime >= mapAttempt[last]) return mapReference[last];
            int i = LastAtOrBefore(mapAttempt, attemptTime);
            double u = (attemptTime - mapAttempt[i]) / (mapAttempt[i + 1] - mapAttempt[i]);
            return mapReference[i] + u * (mapReference[i + 1] - mapReference[i]);
        }

        /// <summary>Reference second (from the first frame) shown at an attempt time: looped or clamped.</summary>
        public double ReferenceTimeAt(double attemptTime)
        {
            double t = MapTime(attemptTime);
            double duration = Duration;
            if (Loop && duration > 0)
            {
                t %= duration;
                return t < 0 ? t + duration : t;
            }
            return Math.Max(0.0, Math.Min(duration, t));
        }

        /// <summary>True when not looping and the attempt time maps to the last frame or beyond.</summary>
        public bool IsPastEnd(double attemptTime)
        {
            return !Loop && MapTime(attemptTime) >= Duration;
        }

        /// <summary>The reference pose for an attempt time; fills and returns <paramref name="result"/>.</summary>
        public PoseSample Sample(double attemptTime, PoseSample result)
        {
            if (result == null)
            {
                result = new PoseSample();
            }
            double mapped = MapTime(attemptTime);
            double t = times[0] + ReferenceTimeAt(attemptTime);
            int a = LastAtOrBefore(times, t);
            PoseFrame fa = poses[a];
            result.TargetTime = t;
            result.FromSequence = a;
            result.ToSequence = a;
            result.Alpha = 0;
            result.Age = 0;
            if (!fa.Valid)
            {
                result.State = SampleState.NoPerson;
                return result;
            }
            bool outside = !Loop && (mapped < 0 || mapped > Duration);
            if (!outside && a + 1 < times.Length)
            {
                PoseFrame fb = poses[a + 1];
                double gap = times[a + 1] - times[a]; // > 0: a is the last frame at or before t
                if (gap <= maxInterpolationGap && fb.Valid)
                {
                    result.Alpha = (t - times[a]) / gap;
                    result.SetBlend(fa, fb, result.Alpha);
                    result.ToSequence = a + 1;
                    result.State = SampleState.Interpolated;
                    return result;
                }
            }
            // Clamped before the start or past the end, across a long gap, or just before a frame
            // without a person: show this frame as it was.
            result.SetPose(fa);
            result.Age = t - times[a];
            result.State = SampleState.Held;
            return result;
        }

        /// <summary>Allocating convenience overload of <see cref="Sample(double, PoseSample)"/>.</summary>
        public PoseSample Sample(double attemptTime)
        {
            return Sample(attemptTime, new PoseSample());
        }

        /// <summary>Index of the last element at or before <paramref name="t"/> (0 when all are after it).</summary>
        private static int LastAtOrBefore(double[] sorted, double t)
        {
            int lo = 0, hi = sorted.Length - 1;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) / 2;
                if (sorted[mid] <= t) lo = mid;
                else hi = mid - 1;
            }
            return lo;
        }

        private static bool IsFinite(double x)
        {
            return !double.IsNaN(x) && !double.IsInfinity(x);
        }

        private static CoachRecording Require(CoachRecording recording)
        {
            if (recording == null) throw new ArgumentNullException("recording");
            return recording;
        }
    }
}
