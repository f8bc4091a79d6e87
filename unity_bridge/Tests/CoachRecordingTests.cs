using System;
using System.IO;
using System.Text;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    /// <summary>The C# reader against a recording the Python SessionRecorder wrote.</summary>
    [TestFixture]
    public class CoachRecordingTests
    {
        [Test]
        public void FixtureIsTheFileThePythonSideDescribes()
        {
            Assert.AreEqual(RecordingVectors.Expected.SizeBytes, RecordingVectors.RecordingBytes.Length,
                "stale fixture: run `python -m coach_backend.recorder.make_test_recording`");
        }

        [Test]
        public void ReadsSessionInfoAsPythonWroteIt()
        {
            CoachRecording rec = CoachRecording.ReadFile(RecordingVectors.RecordingPath);
            InfoVector s = RecordingVectors.Expected.Session;
            SessionInfoMessage info = rec.Info;
            Assert.AreEqual(s.SessionId, info.SessionId);
            Assert.AreEqual(s.BodyModel, info.BodyModel);
            Assert.AreEqual(s.Fps, info.Fps);
            Assert.AreEqual(s.CoordinateFrame, info.CoordinateFrame);
            CollectionAssert.AreEqual(s.JointNames, info.JointNames);
            Assert.AreEqual(s.LayoutVersion, info.LayoutVersion);
            Assert.AreEqual(s.StartedTimeUs, info.StartedTimeUs);
            Assert.AreEqual(s.State, info.State);
            StringAssert.EndsWith(RecordingVectors.Expected.Recording, rec.Source);
        }

        [Test]
        public void ReadsFramesTimesAndPosesAsPythonWroteThem()
        {
            CoachRecording rec = CoachRecording.Read(RecordingVectors.RecordingBytes, "fixture");
            RecordingVectorFile expected = RecordingVectors.Expected;
            Assert.AreEqual(expected.Frames.Length, rec.Frames.Count);
            Assert.AreEqual(rec.Frames.Count, rec.Poses.Count);
            Assert.AreEqual(rec.Frames.Count, rec.FrameTimes.Count);
            long firstUs = expected.Frames[0].CaptureTimeUs;
            for (int i = 0; i < expected.Frames.Length; i++)
            {
                RecordedFrameVector e = expected.Frames[i];
                PoseFrameMessage f = rec.Frames[i];
                string where = "frame " + i;
                Assert.AreEqual(e.Sequence, f.Sequence, where);
                Assert.AreEqual(e.CaptureTimeUs, f.CaptureTimeUs, where);
                Assert.AreEqual(e.Confidence, f.Confidence, where);
                Assert.AreEqual(e.Flags, f.Flags, where);
                Assert.AreEqual((e.CaptureTimeUs - firstUs) * 1e-6, rec.FrameTimes[i], 1e-12, where + " time");

                PoseFrame pose = rec.Poses[i];
                Assert.AreEqual(e.Valid, pose.Valid, where);
                TestUtil.AreEqual(TestVectors.V(e.PelvisM), pose.PelvisPosition, expected.Tolerance, where + " pelvis");
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    Quat q = Quat.FromRotationVector(TestVectors.V(e.Rotvecs[j]));
                    TestUtil.SameRotation(q, pose.Rotations[j], expected.Tolerance, where + " joint " + j);
                }
            }
            Assert.AreEqual(rec.FrameTimes[rec.FrameTimes.Count - 1], rec.Duration);
        }

        [Test]
        public void KeepsEachShapeUpdateWithItsPositionAsPythonDoes()
        {
            CoachRecording rec = CoachRecording.Read(RecordingVectors.RecordingBytes, "fixture");
            RecordingVectorFile expected = RecordingVectors.Expected;
            Assert.AreEqual(expected.Infos.Length, rec.Infos.Count);
            for (int k = 0; k < expected.Infos.Length; k++)
            {
                Assert.AreEqual(expected.Infos[k].FirstFrame, rec.Infos[k].FirstFrame, "info " + k);
                CollectionAssert.AreEqual(expected.Infos[k].Betas, rec.Infos[k].Info.Betas, "info " + k);
                Assert.AreEqual(expected.Infos[k].HasShape, CoachRecording.HasShape(rec.Infos[k].Info), "info " + k);
            }
            Assert.AreSame(rec.Infos[rec.Infos.Count - 1].Info, rec.Info, "Info is the latest record");
            // The shape each frame is drawn with (Python: ReplayTimeline.info_at): a mid-file update
            // applies from its frame on; a record without betas changes nothing.
            for (int i = 0; i < expected.Frames.Length; i++)
            {
                CollectionAssert.AreEqual(expected.Frames[i].ShapeBetas, rec.InfoAt(i).Betas, "frame " + i);
            }
            CollectionAssert.AreNotEqual(rec.InfoAt(0).Betas, rec.InfoAt(expected.Frames.Length - 1).Betas,
                "the fixture must change shape mid-file");
        }

        [Test]
        public void ReadsTheStreamEnd()
        {
            CoachRecording rec = CoachRecording.Read(RecordingVectors.RecordingBytes, "fixture");
            EndVector e = RecordingVectors.Expected.End;
            Assert.IsNotNull(rec.End);
            Assert.AreEqual(e.Reason, rec.End.Reason);
            Assert.AreEqual(e.FramesSent, rec.End.FramesSent);
            Assert.AreEqual(e.FramesDropped, rec.End.FramesDropped);
            Assert.AreEqual(0, rec.TornTailBytes);
            Assert.IsTrue(rec.Complete);
        }

        /// <summary>Every damaged copy: the C# reader says what Python's read_recording said.</summary>
        [Test]
        public void AgreesWithThePythonReaderOnDamagedCopies()
        {
            byte[] original = RecordingVectors.RecordingBytes;
            int tornCases = 0, rejected = 0;
            foreach (RecordingVariant v in RecordingVectors.Expected.Variants)
            {
                byte[] data = v.Apply(original);
                VariantExpectation e = v.Expect;
                if (e.Error)
                {
                    var ex = Assert.Throws<RecordingFormatException>(() => CoachRecording.Read(data, v.Name), v.Name);
                    StringAssert.StartsWith(v.Name + ": ", ex.Message, v.Name + ": the message names the source");
                    Assert.AreEqual(e.NotARecording, ex.Message.Contains("not a coach recording"), v.Name + ": " + ex.Message);
                    rejected++;
                    continue;
                }
                CoachRecording rec = CoachRecording.Read(data, v.Name);
                Assert.AreEqual(e.Frames, rec.Frames.Count, v.Name + " frames");
                Assert.AreEqual(e.Infos, rec.Infos.Count, v.Name + " infos");
                Assert.AreEqual(e.TornTailBytes, rec.TornTailBytes, v.Name + " torn tail");
                Assert.AreEqual(e.HasEnd, rec.End != null, v.Name + " end");
                Assert.AreEqual(e.Complete, rec.Complete, v.Name + " complete");
                if (rec.TornTailBytes > 0) tornCases++;
            }
            Assert.GreaterOrEqual(tornCases, 4, "torn tails covered");
            Assert.GreaterOrEqual(rejected, 6, "rejections covered");
        }

        [Test]
        public void TornTailKeepsTheFramesBeforeIt()
        {
            byte[] data = RecordingVectors.RecordingBytes;
            CoachRecording whole = CoachRecording.Read(data, "whole");
            int endRecordBytes = 0;
            foreach (RecordingVariant v in RecordingVectors.Expected.Variants)
            {
                if (v.Name == "no_stream_end") endRecordBytes = data.Length - v.KeepBytes.Value;
            }
            Assert.Greater(endRecordBytes, 2);
            // Inside the StreamEnd record or inside the last frame, never at a record boundary.
            foreach (int cut in new[] { 1, endRecordBytes / 2, endRecordBytes - 1, endRecordBytes + 1, endRecordBytes + 40 })
            {
                var torn = new byte[data.Length - cut];
                Array.Copy(data, torn, torn.Length);
                CoachRecording rec = CoachRecording.Read(torn, "torn");
                Assert.IsNull(rec.End, "cut " + cut);
                Assert.IsFalse(rec.Complete, "cut " + cut);
                Assert.Greater(rec.TornTailBytes, 0, "cut " + cut);
                Assert.GreaterOrEqual(rec.Frames.Count, whole.Frames.Count - 1, "cut " + cut);
                for (int i = 0; i < rec.Frames.Count; i++)
                {
                    Assert.AreEqual(whole.Frames[i].Sequence, rec.Frames[i].Sequence);
                }
            }
        }

        [Test]
        public void RejectsWhatIsNotARecording()
        {
            var cases = new[]
            {
                new byte[0],
                Encoding.UTF8.GetBytes("{\"format\": \"coach_backend.replay/1\", \"frames\": []}\n"),
                Encoding.UTF8.GetBytes("hello, this is a text file that happens to be long enough to parse\n"),
                new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00 }, // a zip (.npz)
                new byte[] { 0x00, 0x00, 0x00, 0x00 }, // only zeros: no SessionInfo
            };
            foreach (byte[] data in cases)
            {
                var ex = Assert.Throws<RecordingFormatException>(() => CoachRecording.Read(data, "not.coachrec"));
                StringAssert.Contains("not a coach recording", ex.Message);
            }
        }

        [Test]
        public void ReadFileReportsAMissingFile()
        {
            string missing = Path.Combine(Path.GetTempPath(), "no-such-recording-" + Guid.NewGuid() + ".coachrec");
            Assert.Throws<FileNotFoundException>(() => CoachRecording.ReadFile(missing));
        }

        [Test]
        public void ARecordingWithoutFramesReadsButCannotBePlayed()
        {
            byte[] good = RecordingVectors.RecordingBytes;
            Assert.IsTrue((good[0] & 0x80) != 0 && (good[1] & 0x80) == 0, "the first info has a two-byte length prefix");
            int infoLength = (good[0] & 0x7F) | (good[1] << 7);
            var onlyInfo = new byte[2 + infoLength];
            Array.Copy(good, onlyInfo, onlyInfo.Length);
            CoachRecording rec = CoachRecording.Read(onlyInfo, "only-info");
            Assert.AreEqual(0, rec.Frames.Count);
            Assert.AreEqual(0.0, rec.Duration);
            Assert.AreEqual(1, rec.Infos.Count);
            Assert.IsFalse(rec.Complete);
            Assert.Throws<ArgumentException>(() => new ReferencePlayer(rec));
        }
    }
}
