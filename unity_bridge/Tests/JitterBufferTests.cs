using System;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    [TestFixture]
    public class JitterBufferTests
    {
        private const double Dt = 1.0 / 30.0;   // sender frame interval
        private const double Delay = 0.1;

        private static JitterBuffer NewBuffer()
        {
            return new JitterBuffer(new JitterBufferSettings
            {
                Delay = Delay,
                MaxInterpolationGap = 0.25,
                MaxExtrapolation = 0.05,
                HoldLimit = 0.4,
                Capacity = 16,
            });
        }

        /// <summary>Frame k: yaw k*0.1 rad and pelvis x = k*0.1, captured at k*Dt.</summary>
        private static void PushYaw(JitterBuffer jb, long k)
        {
            jb.Push(k, k * Dt, TestUtil.YawFrame(k * 0.1));
        }

        [Test]
        public void EmptyThenBufferingThenInterpolating()
        {
            JitterBuffer jb = NewBuffer();
            Assert.AreEqual(SampleState.Empty, jb.Sample(0.0).State);
            PushYaw(jb, 0);
            PoseSample s = jb.Sample(0.05); // target -0.05: before the first frame
            Assert.AreEqual(SampleState.Buffering, s.State);
            Assert.IsFalse(s.HasPose);
            PushYaw(jb, 1);
            s = jb.Sample(Delay + 0.5 * Dt);
            Assert.AreEqual(SampleState.Interpolated, s.State);
            Assert.IsTrue(s.HasPose);
            Assert.AreEqual(0, s.FromSequence);
            Assert.AreEqual(1, s.ToSequence);
            Assert.AreEqual(0.5, s.Alpha, 1e-9);
            Assert.AreEqual(0.05, TestUtil.Yaw(s.Rotations[7]), 1e-9);
            Assert.AreEqual(0.05, s.PelvisPosition.X, 1e-9);
        }

        [Test]
        public void SixtyHertzRenderOverThirtyHertzStreamIsSmooth()
        {
            JitterBuffer jb = NewBuffer();
            var sample = new PoseSample();
            long next = 0;
            for (int frame = 0; frame < 120; frame++)
            {
                double now = frame / 60.0;
                // Frames arrive 40 ms after capture.
                while (next * Dt + 0.04 <= now + 1e-12)
                {
                    jb.Push(next, next * Dt, TestUtil.YawFrame(next * 0.02));
                    next++;
                }
                jb.Sample(now, sample);
                double target = now - Delay;
                if (target >= 0)
                {
                    Assert.AreEqual(SampleState.Interpolated, sample.State, "render frame " + frame);
                    Assert.AreEqual(target / Dt * 0.02, TestUtil.Yaw(sample.Rotations[0]), 1e-9, "frame " + frame);
                    Assert.AreEqual(target / Dt * 0.02, sample.PelvisPosition.X, 1e-9, "frame " + frame);
                }
            }
            Assert.AreEqual(0, jb.Dropped);
            Assert.AreEqual(0, jb.Lost);
            Assert.LessOrEqual(jb.Count, 8, "old frames are evicted");
        }

        [Test]
        public void MatchesSlerpOfPythonMotionVectors()
        {
            JitterBuffer jb = NewBuffer();
            var frames = new System.Collections.Generic.List<VectorCase>();
            foreach (VectorCase c in TestVectors.Load().Cases)
            {
                if (c.Group == "motion")
                {
                    frames.Add(c);
                }
            }
            Assert.GreaterOrEqual(frames.Count, 4);
            // Push in reverse order: the buffer must sort them.
            for (int i = frames.Count - 1; i >= 0; i--)
            {
                VectorCase c = frames[i];
                Assert.AreEqual(PushResult.Accepted, jb.Push(c.Sequence.Value, c.CaptureTimeS.Value, PoseFrameDecoder.Decode(c.Bytes)));
            }
            for (int i = 0; i + 1 < frames.Count; i++)
            {
                double ta = frames[i].CaptureTimeS.Value, tb = frames[i + 1].CaptureTimeS.Value;
                double t = ta + 0.25 * (tb - ta);
                PoseSample s = jb.Sample(t + Delay);
                Assert.AreEqual(SampleState.Interpolated, s.State);
                Assert.AreEqual(frames[i].Sequence.Value, s.FromSequence);
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    Quat expected = Quat.Slerp(TestVectors.Q(frames[i].Quats[j]), TestVectors.Q(frames[i + 1].Quats[j]), 0.25);
                    TestUtil.SameRotation(expected, s.Rotations[j], 1e-9, "frame " + i + " joint " + j);
                    // Interpolated rotation lies between the two: angle to each is a quarter / three quarters.
                    double whole = Quat.AngleBetween(TestVectors.Q(frames[i].Quats[j]), TestVectors.Q(frames[i + 1].Quats[j]));
                    Assert.AreEqual(0.25 * whole, Quat.AngleBetween(TestVectors.Q(frames[i].Quats[j]), s.Rotations[j]), 1e-6);
                }
                Vec3 pa = TestVectors.V(frames[i].PelvisM), pb = TestVectors.V(frames[i + 1].PelvisM);
                TestUtil.AreEqual(Vec3.Lerp(pa, pb, 0.25), s.PelvisPosition, 1e-9, "pelvis " + i);
            }
        }

        [Test]
        public void DuplicatesAreIgnoredAndCounted()
        {
            JitterBuffer jb = NewBuffer();
            PushYaw(jb, 0);
            Assert.AreEqual(PushResult.Duplicate, jb.Push(0, 0.0, TestUtil.YawFrame(5.0)));
            PushYaw(jb, 1);
            Assert.AreEqual(PushResult.Duplicate, jb.Push(1, 1 * Dt, TestUtil.YawFrame(5.0)));
            Assert.AreEqual(2, jb.Duplicates);
            Assert.AreEqual(4, jb.Received);
            Assert.AreEqual(2, jb.Count);
            PoseSample s = jb.Sample(Delay + Dt);
            Assert.AreEqual(0.1, TestUtil.Yaw(s.Rotations[0]), 1e-9, "the duplicate's content was not used");
        }

        [Test]
        public void OutOfOrderArrivalEqualsInOrder()
        {
            JitterBuffer a = NewBuffer(), b = NewBuffer();
            long[] order = { 0, 2, 1, 4, 3, 5, 7, 6 };
            for (long k = 0; k < 8; k++)
            {
                PushYaw(a, k);
                PushYaw(b, order[k]);
            }
            for (int f = 0; f < 20; f++)
            {
                double now = Delay + f * 0.011;
                PoseSample sa = a.Sample(now), sb = b.Sample(now);
                Assert.AreEqual(sa.State, sb.State);
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    TestUtil.AreEqual(sa.Rotations[j], sb.Rotations[j], 1e-12, "joint " + j);
                }
            }
            Assert.AreEqual(0, b.Dropped);
        }

        [Test]
        public void LateFramesAreDropped()
        {
            JitterBuffer jb = NewBuffer();
            PushYaw(jb, 0);
            PushYaw(jb, 2);
            PoseSample s = jb.Sample(Delay + 1.5 * Dt); // playout passed frame 1's capture time
            Assert.AreEqual(SampleState.Interpolated, s.State);
            Assert.AreEqual(PushResult.Late, jb.Push(1, 1 * Dt, TestUtil.YawFrame(0.1)));
            Assert.AreEqual(1, jb.Late);
            Assert.AreEqual(1, jb.Dropped);
            // A frame still ahead of the playout point is accepted even if out of order.
            PushYaw(jb, 4);
            Assert.AreEqual(PushResult.Accepted, jb.Push(3, 3 * Dt, TestUtil.YawFrame(0.3)));
        }

        [Test]
        public void LostFramesAreBridgedByInterpolation()
        {
            JitterBuffer jb = NewBuffer();
            PushYaw(jb, 0);
            PushYaw(jb, 4); // 1..3 lost: gap 133 ms < MaxInterpolationGap
            PushYaw(jb, 5);
            PoseSample s = jb.Sample(Delay + 2 * Dt);
            Assert.AreEqual(SampleState.Interpolated, s.State);
            Assert.AreEqual(0.2, TestUtil.Yaw(s.Rotations[0]), 1e-9);
            Assert.AreEqual(0.5, s.Alpha, 1e-9);
            jb.Sample(Delay + 5 * Dt + 0.001);
            Assert.AreEqual(3, jb.Lost);
            Assert.AreEqual(0, jb.Dropped);
        }

        [Test]
        public void LongGapHoldsThenGoesStaleThenRecovers()
        {
            JitterBuffer jb = NewBuffer();
            PushYaw(jb, 0);
            PushYaw(jb, 1);
            PushYaw(jb, 30); // 1 s later: too long to interpolate across
            double t1 = 1 * Dt;

            PoseSample s = jb.Sample(Delay + t1 + 0.03);
            Assert.AreEqual(SampleState.Extrapolated, s.State);
            Assert.AreEqual(0.1 + 0.1 * 0.03 / Dt, TestUtil.Yaw(s.Rotations[0]), 1e-9, "constant velocity");

            s = jb.Sample(Delay + t1 + 0.2);
            Assert.AreEqual(SampleState.Held, s.State);
            Assert.AreEqual(0.1 + 0.1 * 0.05 / Dt, TestUtil.Yaw(s.Rotations[0]), 1e-9, "extrapolation capped");
            Assert.AreEqual(0.2, s.Age, 1e-9);

            s = jb.Sample(Delay + t1 + 0.5);
            Assert.AreEqual(SampleState.Stale, s.State);
            Assert.IsTrue(s.HasPose, "stale still carries the last pose");

            s = jb.Sample(Delay + 30 * Dt + 0.001);
            Assert.AreEqual(SampleState.Held, s.State, "newest frame, no velocity across the long gap");
            Assert.AreEqual(3.0, TestUtil.Yaw(s.Rotations[0]), 1e-9);
            Assert.AreEqual(28, jb.Lost);
        }

        [Test]
        public void ExtrapolationCanBeDisabled()
        {
            var jb = new JitterBuffer(new JitterBufferSettings { Delay = Delay, MaxExtrapolation = 0 });
            PushYaw(jb, 0);
            PushYaw(jb, 1);
            PoseSample s = jb.Sample(Delay + Dt + 0.02);
            Assert.AreEqual(SampleState.Held, s.State);
            Assert.AreEqual(0.1, TestUtil.Yaw(s.Rotations[0]), 1e-12);
        }

        [Test]
        public void InvalidFramesReportNoPerson()
        {
            JitterBuffer jb = NewBuffer();
            PushYaw(jb, 0);
            PushYaw(jb, 1);
            jb.Push(2, 2 * Dt, PoseFrame.Invalid());
            jb.Push(3, 3 * Dt, PoseFrame.Invalid());
            PushYaw(jb, 4);
            PushYaw(jb, 5);

            Assert.AreEqual(SampleState.Interpolated, jb.Sample(Delay + 0.5 * Dt).State);
            PoseSample s = jb.Sample(Delay + 1.5 * Dt);
            Assert.AreEqual(SampleState.Held, s.State, "no interpolation towards a frame without a person");
            Assert.AreEqual(0.1, TestUtil.Yaw(s.Rotations[0]), 1e-12);
            s = jb.Sample(Delay + 2.5 * Dt);
            Assert.AreEqual(SampleState.NoPerson, s.State);
            Assert.IsFalse(s.HasPose);
            Assert.AreEqual(SampleState.NoPerson, jb.Sample(Delay + 3.5 * Dt).State);
            s = jb.Sample(Delay + 4.5 * Dt);
            Assert.AreEqual(SampleState.Interpolated, s.State);
            Assert.AreEqual(0.45, TestUtil.Yaw(s.Rotations[0]), 1e-9);
        }

        [Test]
        public void InvalidVectorFrameIsNoPerson()
        {
            JitterBuffer jb = NewBuffer();
            jb.Push(1, 0.0, PoseFrameDecoder.Decode(TestVectors.Case("invalid_with_pose").Bytes));
            Assert.AreEqual(SampleState.NoPerson, jb.Sample(Delay + 0.01).State);
        }

        [Test]
        public void PlayoutNeverRunsBackwards()
        {
            JitterBuffer jb = NewBuffer();
            for (long k = 0; k < 6; k++)
            {
                PushYaw(jb, k);
            }
            PoseSample s = jb.Sample(Delay + 3 * Dt);
            double yaw = TestUtil.Yaw(s.Rotations[0]);
            s = jb.Sample(Delay + 1 * Dt);
            Assert.AreEqual(yaw, TestUtil.Yaw(s.Rotations[0]), 1e-12);
            Assert.AreEqual(3 * Dt, s.TargetTime, 1e-12);
        }

        [Test]
        public void OverflowDropsOldest()
        {
            JitterBuffer jb = NewBuffer(); // capacity 16
            for (long k = 0; k < 20; k++)
            {
                PushYaw(jb, k);
            }
            Assert.AreEqual(16, jb.Count);
            Assert.AreEqual(4, jb.Overflow);
            Assert.AreEqual(SampleState.Buffering, jb.Sample(Delay + 1 * Dt).State, "frames 0..3 are gone");
        }

        [Test]
        public void ResetStartsOverButKeepsCounters()
        {
            JitterBuffer jb = NewBuffer();
            PushYaw(jb, 0);
            PushYaw(jb, 0);
            jb.Sample(Delay + 1.0);
            jb.Reset();
            Assert.AreEqual(0, jb.Count);
            Assert.AreEqual(SampleState.Empty, jb.Sample(0).State);
            // Same sequence numbers and earlier times are fine after a reset (new subscription).
            Assert.AreEqual(PushResult.Accepted, jb.Push(0, 0.0, TestUtil.YawFrame(0)));
            Assert.AreEqual(1, jb.Duplicates);
            jb.ResetCounters();
            Assert.AreEqual(0, jb.Duplicates);
            Assert.AreEqual(0, jb.Received);
        }

        [Test]
        public void RejectsNonFiniteTimesAndBadSettings()
        {
            JitterBuffer jb = NewBuffer();
            Assert.AreEqual(PushResult.Rejected, jb.Push(0, double.NaN, TestUtil.YawFrame(0)));
            Assert.AreEqual(1, jb.Rejected);
            Assert.Throws<ArgumentNullException>(() => jb.Push(1, 0, null));
            Assert.Throws<ArgumentException>(() => new JitterBuffer(new JitterBufferSettings { Delay = -1 }));
            Assert.Throws<ArgumentException>(() => new JitterBuffer(new JitterBufferSettings { MaxExtrapolation = 1, HoldLimit = 0.5 }));
        }

        [Test]
        public void DuplicateMemoryIsBounded()
        {
            var jb = new JitterBuffer(new JitterBufferSettings { Delay = Delay, DuplicateMemory = 4, Capacity = 100 });
            for (long k = 0; k < 10; k++)
            {
                PushYaw(jb, k);
            }
            // Sequence 0 fell out of the memory: it is no longer reported as duplicate (but its time
            // has not been played, so it is accepted).
            Assert.AreEqual(PushResult.Accepted, jb.Push(0, 0.0, TestUtil.YawFrame(0)));
            Assert.AreEqual(PushResult.Duplicate, jb.Push(9, 9 * Dt, TestUtil.YawFrame(0)));
        }
    }

    [TestFixture]
    public class ClockOffsetEstimatorTests
    {
        [Test]
        public void TracksMinimumDelayInWindow()
        {
            var c = new ClockOffsetEstimator(1.0);
            Assert.IsFalse(c.HasEstimate);
            Assert.AreEqual(0.0, c.Offset);
            // Local clock is 100 s ahead of capture; network delay 30..80 ms.
            c.Observe(100.08, 0.0);
            Assert.AreEqual(100.08, c.Offset, 1e-9);
            c.Observe(100.133, 0.1);
            Assert.AreEqual(100.033, c.Offset, 1e-9);
            c.Observe(100.27, 0.2);
            Assert.AreEqual(100.033, c.Offset, 1e-9);
            Assert.AreEqual(5.0, c.ToCaptureTime(105.033), 1e-9);
            // After the window the fast sample expires; the minimum of what remains counts.
            c.Observe(101.25, 1.2);
            Assert.AreEqual(100.05, c.Offset, 1e-9);
            c.Reset();
            Assert.IsFalse(c.HasEstimate);
        }
    }

    [TestFixture]
    public class QuatTests
    {
        [Test]
        public void SlerpEndpointsMidpointAndShortestPath()
        {
            Quat a = Quat.FromAxisAngle(new Vec3(0, 0, 1), 0.2);
            Quat b = Quat.FromAxisAngle(new Vec3(0, 0, 1), 1.0);
            TestUtil.AreEqual(a, Quat.Slerp(a, b, 0), 1e-12, "t=0");
            TestUtil.AreEqual(b, Quat.Slerp(a, b, 1), 1e-12, "t=1");
            TestUtil.AreEqual(Quat.FromAxisAngle(new Vec3(0, 0, 1), 0.6), Quat.Slerp(a, b, 0.5), 1e-12, "t=0.5");
            TestUtil.SameRotation(Quat.FromAxisAngle(new Vec3(0, 0, 1), 0.6), Quat.Slerp(a, b.Negated, 0.5), 1e-12, "-b");
            TestUtil.AreEqual(Quat.FromAxisAngle(new Vec3(0, 0, 1), 1.4), Quat.Slerp(a, b, 1.5), 1e-12, "extrapolate");
            TestUtil.AreEqual(a, Quat.Slerp(a, a, 0.3), 1e-12, "same");
        }

        [Test]
        public void ProductAppliesRightOperandFirst()
        {
            Quat rx = Quat.FromAxisAngle(new Vec3(1, 0, 0), Math.PI / 2);
            Quat ry = Quat.FromAxisAngle(new Vec3(0, 1, 0), Math.PI / 2);
            var v = new Vec3(0, 0, 1);
            TestUtil.AreEqual(ry.Rotate(rx.Rotate(v)), (ry * rx).Rotate(v), 1e-12, "composition");
            TestUtil.AreEqual(new Vec3(0, -1, 0), rx.Rotate(v), 1e-12, "rx: z -> -y");
            Assert.AreEqual(Math.PI / 2, Quat.AngleBetween(rx, Quat.Identity), 1e-12);
            TestUtil.AreEqual(Quat.Identity, rx * rx.Conjugate, 1e-12, "inverse");
        }
    }
}
