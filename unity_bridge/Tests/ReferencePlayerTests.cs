using System;
using System.Collections.Generic;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    [TestFixture]
    public class ReferencePlayerTests
    {
        private const double Tol = 1e-9;

        /// <summary>
        /// Frames k = 0..10 at k * 0.1 s (1 s long), each with yaw and pelvis x = its time: the
        /// pose then tells which reference second is shown.
        /// </summary>
        private static ReferencePlayer Clock(int noPersonFrame = -1)
        {
            var times = new List<double>();
            var poses = new List<PoseFrame>();
            for (int k = 0; k <= 10; k++)
            {
                times.Add(k * 0.1);
                poses.Add(k == noPersonFrame ? PoseFrame.Invalid() : TestUtil.YawFrame(k * 0.1));
            }
            return new ReferencePlayer(times, poses);
        }

        /// <summary>Asserts that the sample shows reference second <paramref name="t"/>.</summary>
        private static void Shows(double t, PoseSample s, string what)
        {
            Assert.IsTrue(s.HasPose, what + ": " + s.State);
            Assert.AreEqual(t, s.PelvisPosition.X, Tol, what + " pelvis");
            Assert.AreEqual(t, TestUtil.Yaw(s.Rotations[0]), 1e-6, what + " yaw");
            Assert.AreEqual(t, s.TargetTime, Tol, what + " target time");
        }

        [Test]
        public void PlaysAsRecordedByDefault()
        {
            ReferencePlayer p = Clock();
            Assert.AreEqual(11, p.Count);
            Assert.AreEqual(1.0, p.Duration, Tol);
            Shows(0.0, p.Sample(0.0), "start");
            Shows(0.37, p.Sample(0.37), "between frames");
            PoseSample s = p.Sample(0.35);
            Assert.AreEqual(SampleState.Interpolated, s.State);
            Assert.AreEqual(3, s.FromSequence, "frame indices");
            Assert.AreEqual(4, s.ToSequence);
            Assert.AreEqual(0.5, s.Alpha, 1e-6);
        }

        [Test]
        public void OffsetAndSpeedMapAttemptTimeToReferenceTime()
        {
            ReferencePlayer p = Clock();
            p.Offset = 0.25;
            p.Speed = 0.5;
            Assert.AreEqual(0.25, p.ReferenceTimeAt(0.0), Tol);
            Assert.AreEqual(0.75, p.ReferenceTimeAt(1.0), Tol);
            Shows(0.5, p.Sample(0.5), "offset + speed * t");
            p.Offset = -0.2; // the first frame is held for the first 0.2 reference seconds
            p.Speed = 2.0;
            Assert.AreEqual(0.0, p.MapTime(0.1), Tol);
            Shows(0.6, p.Sample(0.4), "2x");
            Assert.Throws<ArgumentOutOfRangeException>(() => p.Speed = 0);
            Assert.Throws<ArgumentOutOfRangeException>(() => p.Speed = -1);
            Assert.Throws<ArgumentOutOfRangeException>(() => p.Speed = double.NaN);
            Assert.Throws<ArgumentOutOfRangeException>(() => p.Offset = double.PositiveInfinity);
        }

        [Test]
        public void ClampsToTheFirstAndLastFrameWithoutLoop()
        {
            ReferencePlayer p = Clock();
            PoseSample before = p.Sample(-3.0);
            Shows(0.0, before, "before the start");
            Assert.AreEqual(SampleState.Held, before.State);
            PoseSample after = p.Sample(5.0);
            Shows(1.0, after, "after the end");
            Assert.AreEqual(SampleState.Held, after.State);
            Assert.AreEqual(10, after.FromSequence);
            Assert.IsFalse(p.IsPastEnd(0.99));
            Assert.IsTrue(p.IsPastEnd(1.0));
            Assert.IsTrue(p.IsPastEnd(5.0));
        }

        [Test]
        public void LoopWrapsBothWays()
        {
            ReferencePlayer p = Clock();
            p.Loop = true;
            Shows(0.25, p.Sample(1.25), "one period later");
            Shows(0.25, p.Sample(3.25), "three periods later");
            Shows(0.75, p.Sample(-0.25), "before zero");
            Shows(0.0, p.Sample(1.0), "the last frame leads into the first");
            Assert.IsFalse(p.IsPastEnd(100.0));
            p.Offset = 0.5;
            p.Speed = 2.0;
            Shows(0.5, p.Sample(0.5), "offset and speed, then the wrap"); // 0.5 + 1.0 -> 1.5 -> 0.5
        }

        [Test]
        public void TimeMapDrivesTheReferenceAndIgnoresOffsetAndSpeed()
        {
            ReferencePlayer p = Clock();
            p.Offset = 0.3;
            p.Speed = 3.0;
            // An alignment path: the attempt holds at 1 s while the reference moves 0.4 -> 0.6.
            p.SetTimeMap(new[] { 0.0, 1.0, 1.0, 2.0 }, new[] { 0.0, 0.4, 0.6, 0.9 });
            Assert.IsTrue(p.HasTimeMap);
            Assert.AreEqual(0.25, p.MapTime(0.5), Tol);
            Assert.AreEqual(0.5, p.MapTime(1.0), Tol, "pairs at one attempt second merge into their mean");
            Assert.AreEqual(0.7, p.MapTime(1.5), Tol);
            Assert.AreEqual(0.0, p.MapTime(-1.0), Tol, "held before the map");
            Assert.AreEqual(0.9, p.MapTime(7.0), Tol, "held after the map");
            Shows(0.7, p.Sample(1.5), "mapped");
            p.ClearTimeMap();
            Assert.IsFalse(p.HasTimeMap);
            Assert.AreEqual(0.3 + 3.0 * 0.1, p.MapTime(0.1), Tol);
        }

        [Test]
        public void TimeMapIsValidated()
        {
            ReferencePlayer p = Clock();
            Assert.Throws<ArgumentException>(() => p.SetTimeMap(new[] { 0.0, 2.0, 1.0 }, new[] { 0.0, 0.1, 0.2 }));
            Assert.Throws<ArgumentException>(() => p.SetTimeMap(new[] { 0.0, 1.0 }, new[] { 0.0 }));
            Assert.Throws<ArgumentException>(() => p.SetTimeMap(new double[0], new double[0]));
            Assert.Throws<ArgumentException>(() => p.SetTimeMap(new[] { 0.0, double.NaN }, new[] { 0.0, 0.1 }));
            Assert.IsFalse(p.HasTimeMap, "a rejected map leaves none");
            p.SetTimeMap(new[] { 2.0 }, new[] { 0.4 });
            Assert.AreEqual(0.4, p.MapTime(0.0), Tol, "a one-pair map is constant");
            Assert.AreEqual(0.4, p.MapTime(9.0), Tol);
        }

        [Test]
        public void FramesWithoutAPersonAreNotInterpolatedInto()
        {
            ReferencePlayer p = Clock(noPersonFrame: 5);
            PoseSample s = p.Sample(0.45);
            Assert.AreEqual(SampleState.Held, s.State, "frame 4 held until the person disappears");
            Assert.AreEqual(0.4, s.PelvisPosition.X, Tol);
            Assert.AreEqual(SampleState.NoPerson, p.Sample(0.5).State);
            Assert.AreEqual(SampleState.NoPerson, p.Sample(0.55).State);
            Assert.IsFalse(p.Sample(0.55).HasPose);
            Shows(0.65, p.Sample(0.65), "after it");
        }

        [Test]
        public void LongGapsAreHeldNotInterpolated()
        {
            var p = new ReferencePlayer(new[] { 0.0, 0.1, 2.0 },
                new[] { TestUtil.YawFrame(0.0), TestUtil.YawFrame(0.1), TestUtil.YawFrame(2.0) });
            PoseSample s = p.Sample(1.0);
            Assert.AreEqual(SampleState.Held, s.State);
            Assert.AreEqual(0.1, s.PelvisPosition.X, Tol);
            Assert.AreEqual(0.9, s.Age, Tol);
            p.MaxInterpolationGap = 2.0;
            Shows(1.0, p.Sample(1.0), "bridged with a larger gap");
        }

        [Test]
        public void SortsFramesAndKeepsAnyTimeOrigin()
        {
            // Capture times on an epoch-like base, out of order.
            var p = new ReferencePlayer(new[] { 100.2, 100.0, 100.1 },
                new[] { TestUtil.YawFrame(0.2), TestUtil.YawFrame(0.0), TestUtil.YawFrame(0.1) });
            Assert.AreEqual(100.0, p.StartTime, Tol);
            Assert.AreEqual(0.2, p.Duration, Tol);
            PoseSample s = p.Sample(0.15);
            Assert.AreEqual(0.15, s.PelvisPosition.X, Tol);
            Assert.AreEqual(100.15, s.TargetTime, Tol, "TargetTime is on the reference's own time base");
        }

        [Test]
        public void RejectsBadFrames()
        {
            Assert.Throws<ArgumentException>(() => new ReferencePlayer(new double[0], new PoseFrame[0]));
            Assert.Throws<ArgumentException>(() => new ReferencePlayer(new[] { 0.0 }, new PoseFrame[0]));
            Assert.Throws<ArgumentException>(() => new ReferencePlayer(new[] { double.NaN }, new[] { TestUtil.YawFrame(0) }));
            Assert.Throws<ArgumentNullException>(() => new ReferencePlayer((CoachRecording)null));
        }

        [Test]
        public void ASingleFrameIsShownAtAnyTime()
        {
            var p = new ReferencePlayer(new[] { 5.0 }, new[] { TestUtil.YawFrame(0.3) });
            p.Loop = true;
            Assert.AreEqual(0.0, p.Duration);
            Assert.AreEqual(0.3, p.Sample(12.0).PelvisPosition.X, Tol);
            Assert.AreEqual(SampleState.Held, p.Sample(12.0).State);
        }

        /// <summary>The Python-written recording through the player: each frame at its own time.</summary>
        [Test]
        public void PlaysTheRecordingWrittenByPython()
        {
            CoachRecording rec = CoachRecording.Read(RecordingVectors.RecordingBytes, "fixture");
            var p = new ReferencePlayer(rec);
            p.Speed = 2.0;
            var s = new PoseSample();
            for (int i = 0; i < rec.Frames.Count; i++)
            {
                p.Sample(rec.FrameTimes[i] / 2.0, s);
                if (!rec.Poses[i].Valid)
                {
                    Assert.AreEqual(SampleState.NoPerson, s.State, "frame " + i);
                    continue;
                }
                Assert.IsTrue(s.HasPose, "frame " + i);
                Assert.AreEqual(i, s.FromSequence, "frame " + i);
                TestUtil.AreEqual(rec.Poses[i].PelvisPosition, s.PelvisPosition, 1e-9, "frame " + i + " pelvis");
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    TestUtil.SameRotation(rec.Poses[i].Rotations[j], s.Rotations[j], 1e-9, "frame " + i + " joint " + j);
                }
            }
            Assert.AreEqual(rec.Duration, p.Duration, Tol);
        }
    }
}
