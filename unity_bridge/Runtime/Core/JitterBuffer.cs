using System;
using System.Collections.Generic;

namespace CoachBridge.Core
{
    /// <summary>What <see cref="JitterBuffer.Sample"/> produced.</summary>
    public enum SampleState
    {
        /// <summary>Nothing received since construction or <see cref="JitterBuffer.Reset"/>. No pose.</summary>
        Empty,

        /// <summary>Frames exist but all lie after the playout time (still filling the delay). No pose.</summary>
        Buffering,

        /// <summary>Between two valid frames (possibly bridging lost frames). Pose present.</summary>
        Interpolated,

        /// <summary>
        /// Newest usable frame is older than the playout time (stream late or stalled) and
        /// extrapolation is exhausted, or the next frame has no person: last pose held. Pose present.
        /// </summary>
        Held,

        /// <summary>Past the newest frame, within <see cref="JitterBufferSettings.MaxExtrapolation"/>. Pose present.</summary>
        Extrapolated,

        /// <summary>
        /// No new data for longer than <see cref="JitterBufferSettings.HoldLimit"/>. The last pose
        /// is still provided so the app can choose to freeze, fade or hide the avatar.
        /// </summary>
        Stale,

        /// <summary>The frame in effect says no person was detected. No pose.</summary>
        NoPerson,
    }

    /// <summary>Outcome of <see cref="JitterBuffer.Push"/>.</summary>
    public enum PushResult
    {
        Accepted,
        /// <summary>Sequence number already seen: ignored.</summary>
        Duplicate,
        /// <summary>Capture time already played out: dropped.</summary>
        Late,
        /// <summary>Capture time not finite: dropped.</summary>
        Rejected,
    }

    /// <summary>Tuning of <see cref="JitterBuffer"/>; all times in seconds.</summary>
    public sealed class JitterBufferSettings
    {
        /// <summary>Playout delay behind the render clock: covers network jitter (default 0.1).</summary>
        public double Delay = 0.1;

        /// <summary>Largest gap between neighbouring frames that is bridged by interpolation (default 0.5).</summary>
        public double MaxInterpolationGap = 0.5;

        /// <summary>How far past the newest frame the motion is continued at constant velocity (default 0.05; 0 = off).</summary>
        public double MaxExtrapolation = 0.05;

        /// <summary>How long past the newest frame a pose is held before the state becomes Stale (default 0.5).</summary>
        public double HoldLimit = 0.5;

        /// <summary>Maximum frames kept; the oldest are dropped beyond it (default 120).</summary>
        public int Capacity = 120;

        /// <summary>How many recent sequence numbers are remembered to detect duplicates (default 512).</summary>
        public int DuplicateMemory = 512;

        public JitterBufferSettings Clone() { return (JitterBufferSettings)MemberwiseClone(); }
    }

    /// <summary>Result of one <see cref="JitterBuffer.Sample"/> call (reused between calls).</summary>
    public sealed class PoseSample
    {
        public SampleState State;

        /// <summary>Playout time (render time - delay) in the capture timebase.</summary>
        public double TargetTime;

        /// <summary>Sequence numbers of the frames used (equal when a single frame was used; -1 when none).</summary>
        public long FromSequence = -1;
        public long ToSequence = -1;

        /// <summary>Interpolation parameter between the two frames (above 1 when extrapolating).</summary>
        public double Alpha;

        /// <summary>TargetTime minus the capture time of the newest frame at or before it (0 when none).</summary>
        public double Age;

        /// <summary>Wire-frame rotations (24, SMPL order); meaningful only when <see cref="HasPose"/>.</summary>
        public readonly Quat[] Rotations = new Quat[SmplSkeleton.JointCount];

        /// <summary>Wire-frame pelvis position in metres; meaningful only when <see cref="HasPose"/>.</summary>
        public Vec3 PelvisPosition;

        public bool HasPose
        {
            get
            {
                return State == SampleState.Interpolated || State == SampleState.Held
                    || State == SampleState.Extrapolated || State == SampleState.Stale;
            }
        }

        /// <summary>Takes the pose of one frame.</summary>
        public void SetPose(PoseFrame frame)
        {
            Array.Copy(frame.Rotations, Rotations, SmplSkeleton.JointCount);
            PelvisPosition = frame.PelvisPosition;
        }

        /// <summary>Slerps rotations and lerps the pelvis from <paramref name="a"/> (alpha 0) to <paramref name="b"/> (alpha 1; beyond extrapolates).</summary>
        public void SetBlend(PoseFrame a, PoseFrame b, double alpha)
        {
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                Rotations[j] = Quat.Slerp(a.Rotations[j], b.Rotations[j], alpha);
            }
            PelvisPosition = Vec3.Lerp(a.PelvisPosition, b.PelvisPosition, alpha);
        }
    }

    /// <summary>
    /// Reorders and smooths a pose stream for rendering.
    ///
    /// Frames are pushed as they arrive (possibly late, lost, duplicated or out of order) with
    /// their sequence number and capture time. The render loop calls <see cref="Sample"/> with the
    /// current render time expressed in the capture timebase (see <see cref="ClockOffsetEstimator"/>)
    /// and receives the pose at <c>renderTime - Delay</c>: slerp between rotations and lerp between
    /// pelvis positions of the two frames around that time. Gaps up to
    /// <see cref="JitterBufferSettings.MaxInterpolationGap"/> are interpolated across; past the newest
    /// frame the motion is extrapolated briefly, then held, then reported Stale.
    ///
    /// Playout time never goes backwards. A frame whose capture time lies before the last
    /// played-out time is dropped as Late. Not thread-safe: call Push and Sample from one thread
    /// (the Unity glue queues network frames and pushes them on the main thread).
    /// </summary>
    public sealed class JitterBuffer
    {
        private struct Entry
        {
            public long Sequence;
            public double Time;
            public PoseFrame Pose;
        }

        private readonly JitterBufferSettings settings;
        private readonly List<Entry> frames = new List<Entry>();
        private readonly HashSet<long> seen = new HashSet<long>();
        private readonly Queue<long> seenOrder = new Queue<long>();
        private double playedTime = double.NegativeInfinity;
        private double lastTarget = double.NegativeInfinity;
        private long lastPassedSequence;
        private bool anyPassed;

        public JitterBuffer() : this(new JitterBufferSettings()) { }

        public JitterBuffer(JitterBufferSettings settings)
        {
            if (settings == null)
            {
                throw new ArgumentNullException("settings");
            }
            if (settings.Delay < 0 || settings.MaxInterpolationGap <= 0 || settings.MaxExtrapolation < 0
                || settings.HoldLimit < settings.MaxExtrapolation || settings.Capacity < 2
                || settings.DuplicateMemory < 1)
            {
                throw new ArgumentException(
                    "invalid jitter buffer settings (need Delay >= 0, MaxInterpolationGap > 0, "
                    + "0 <= MaxExtrapolation <= HoldLimit, Capacity >= 2, DuplicateMemory >= 1)", "settings");
            }
            this.settings = settings.Clone();
        }

        public JitterBufferSettings Settings { get { return settings.Clone(); } }

        /// <summary>Frames passed to <see cref="Push"/>.</summary>
        public long Received { get; private set; }

        /// <summary>Frames ignored because their sequence number was already seen.</summary>
        public long Duplicates { get; private set; }

        /// <summary>Frames dropped because their capture time had already been played out.</summary>
        public long Late { get; private set; }

        /// <summary>Frames dropped because the buffer exceeded its capacity (oldest first).</summary>
        public long Overflow { get; private set; }

        /// <summary>Frames rejected for a non-finite capture time.</summary>
        public long Rejected { get; private set; }

        /// <summary>All frames received but never used: duplicates + late + overflow + rejected.</summary>
        public long Dropped { get { return Duplicates + Late + Overflow + Rejected; } }

        /// <summary>
        /// Sequence numbers the playout skipped: never received before their time was played
        /// (lost upstream, or arriving too late; the latter also count in <see cref="Late"/>).
        /// Assumes sequence numbers increase with capture time, as the server guarantees.
        /// </summary>
        public long Lost { get; private set; }

        /// <summary>Frames currently buffered.</summary>
        public int Count { get { return frames.Count; } }

        /// <summary>Clears frames and playout state (call on reconnect / new session); keeps counters.</summary>
        public void Reset()
        {
            frames.Clear();
            seen.Clear();
            seenOrder.Clear();
            playedTime = double.NegativeInfinity;
            lastTarget = double.NegativeInfinity;
            anyPassed = false;
        }

        /// <summary>Clears the counters.</summary>
        public void ResetCounters()
        {
            Received = Duplicates = Late = Overflow = Rejected = Lost = 0;
        }

        /// <summary>Adds a received frame. <paramref name="captureTime"/> in seconds (capture timebase).</summary>
        public PushResult Push(long sequence, double captureTime, PoseFrame pose)
        {
            if (pose == null)
            {
                throw new ArgumentNullException("pose");
            }
            Received++;
            if (double.IsNaN(captureTime) || double.IsInfinity(captureTime))
            {
                Rejected++;
                return PushResult.Rejected;
            }
            if (seen.Contains(sequence))
            {
                Duplicates++;
                return PushResult.Duplicate;
            }
            Remember(sequence);
            if (captureTime < playedTime)
            {
                Late++;
                return PushResult.Late;
            }

            // Insert keeping capture-time order; scanning from the end is O(1) for in-order streams.
            int i = frames.Count;
            while (i > 0 && frames[i - 1].Time > captureTime)
            {
                i--;
            }
            frames.Insert(i, new Entry { Sequence = sequence, Time = captureTime, Pose = pose });
            while (frames.Count > settings.Capacity)
            {
                frames.RemoveAt(0);
                Overflow++;
            }
            return PushResult.Accepted;
        }

        /// <summary>
        /// Pose at <c>renderTime - Delay</c> (render time in the capture timebase, seconds).
        /// Fills and returns <paramref name="result"/> (allocation-free when reused).
        /// </summary>
        public PoseSample Sample(double renderTime, PoseSample result)
        {
            if (result == null)
            {
                result = new PoseSample();
            }
            double t = renderTime - settings.Delay;
            if (t < lastTarget)
            {
                t = lastTarget; // playout never runs backwards (e.g. after a clock re-estimate)
            }
            lastTarget = t;
            result.TargetTime = t;
            result.Alpha = 0;
            result.Age = 0;
            result.FromSequence = -1;
            result.ToSequence = -1;

            if (frames.Count == 0)
            {
                result.State = SampleState.Empty;
                return result;
            }
            if (t < frames[0].Time)
            {
                result.State = SampleState.Buffering;
                return result;
            }

            int a = frames.Count - 1;
            while (frames[a].Time > t)
            {
                a--;
            }
            // Count sequence numbers the playout skipped (frames 0..a are now in the past).
            for (int k = 0; k <= a; k++)
            {
                long seq = frames[k].Sequence;
                if (!anyPassed || seq > lastPassedSequence)
                {
                    if (anyPassed && seq > lastPassedSequence + 1)
                    {
                        Lost += seq - lastPassedSequence - 1;
                    }
                    lastPassedSequence = seq;
                    anyPassed = true;
                }
            }
            // Keep the frame in effect and one before it (for extrapolation velocity).
            int evict = a - 1;
            if (evict > 0)
            {
                frames.RemoveRange(0, evict);
                a -= evict;
            }

            playedTime = t;
            Entry fa = frames[a];
            result.FromSequence = fa.Sequence;
            result.ToSequence = fa.Sequence;
            result.Age = t - fa.Time;

            if (!fa.Pose.Valid)
            {
                result.State = SampleState.NoPerson;
                return result;
            }

            if (a + 1 < frames.Count)
            {
                Entry fb = frames[a + 1];
                double gap = fb.Time - fa.Time;
                if (gap <= settings.MaxInterpolationGap)
                {
                    if (!fb.Pose.Valid)
                    {
                        // The person disappears at fb's time; until then show fa as it was.
                        result.SetPose(fa.Pose);
                        result.State = SampleState.Held;
                        return result;
                    }
                    double alpha = gap > 0 ? (t - fa.Time) / gap : 1.0;
                    result.SetBlend(fa.Pose, fb.Pose, alpha);
                    result.ToSequence = fb.Sequence;
                    result.Alpha = alpha;
                    result.Age = 0;
                    result.State = SampleState.Interpolated;
                    return result;
                }
                // Gap too long to interpolate across: treat fa as the end of the stream for now.
            }

            // Past the newest usable frame: extrapolate briefly, then hold, then Stale.
            double dt = t - fa.Time;
            double ext = Math.Min(dt, settings.MaxExtrapolation);
            bool extrapolated = false;
            if (ext > 0 && a > 0)
            {
                Entry fp = frames[a - 1];
                double step = fa.Time - fp.Time;
                if (fp.Pose.Valid && step > 0 && step <= settings.MaxInterpolationGap)
                {
                    double u = 1.0 + ext / step;
                    result.SetBlend(fp.Pose, fa.Pose, u);
                    result.FromSequence = fp.Sequence;
                    result.ToSequence = fa.Sequence;
                    result.Alpha = u;
                    extrapolated = true;
                }
            }
            if (!extrapolated)
            {
                result.SetPose(fa.Pose);
            }
            if (dt > settings.HoldLimit)
            {
                result.State = SampleState.Stale;
            }
            else if (extrapolated && dt <= settings.MaxExtrapolation)
            {
                result.State = SampleState.Extrapolated;
            }
            else
            {
                result.State = SampleState.Held;
            }
            return result;
        }

        /// <summary>Allocating convenience overload of <see cref="Sample(double, PoseSample)"/>.</summary>
        public PoseSample Sample(double renderTime)
        {
            return Sample(renderTime, new PoseSample());
        }

        private void Remember(long sequence)
        {
            seen.Add(sequence);
            seenOrder.Enqueue(sequence);
            while (seenOrder.Count > settings.DuplicateMemory)
            {
                seen.Remove(seenOrder.Dequeue());
            }
        }
    }
}
