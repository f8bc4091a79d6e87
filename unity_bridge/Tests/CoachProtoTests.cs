using System;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    [TestFixture]
    public class CoachProtoTests
    {
        private static StreamVector Get(string name)
        {
            foreach (StreamVector v in TestVectors.Load().StreamMessages)
            {
                if (v.Name == name)
                {
                    return v;
                }
            }
            throw new ArgumentException("no stream vector " + name);
        }

        [Test]
        public void ParsesSessionInfoSerializedByPython()
        {
            StreamVector v = Get("info");
            StreamMessage m = CoachProto.ParseStreamMessage(TestVectors.FromHex(v.Hex));
            Assert.AreEqual(StreamMessageKind.Info, m.Kind);
            Assert.IsNull(m.Frame);
            SessionInfoMessage i = m.Info;
            Assert.AreEqual(v.Info.SessionId, i.SessionId);
            Assert.AreEqual(v.Info.BodyModel, i.BodyModel);
            CollectionAssert.AreEqual(v.Info.Betas, i.Betas);
            Assert.AreEqual(v.Info.Fps, i.Fps);
            Assert.AreEqual(v.Info.CoordinateFrame, i.CoordinateFrame);
            CollectionAssert.AreEqual(v.Info.JointNames, i.JointNames);
            CollectionAssert.AreEqual(SmplSkeleton.Names, i.JointNames);
            Assert.AreEqual(v.Info.LayoutVersion, i.LayoutVersion);
            Assert.AreEqual(PoseFrameDecoder.LayoutVersion, (int)i.LayoutVersion);
            Assert.AreEqual(v.Info.StartedTimeUs, i.StartedTimeUs);
            Assert.AreEqual(v.Info.State, i.State);
        }

        [Test]
        public void ParsesPoseFramesSerializedByPython()
        {
            foreach (string name in new[] { "frame", "frame_defaults" })
            {
                StreamVector v = Get(name);
                StreamMessage m = CoachProto.ParseStreamMessage(TestVectors.FromHex(v.Hex));
                Assert.AreEqual(StreamMessageKind.Frame, m.Kind, name);
                PoseFrameMessage f = m.Frame;
                Assert.AreEqual(v.Frame.Sequence, f.Sequence, name);
                Assert.AreEqual(v.Frame.CaptureTimeUs, f.CaptureTimeUs, name);
                Assert.AreEqual(v.Frame.Confidence, f.Confidence, name);
                Assert.AreEqual(v.Frame.Flags, f.Flags, name);
                CollectionAssert.AreEqual(TestVectors.FromHex(v.Frame.PoseHex), f.Pose, name);
                PoseFrame pose = PoseFrameDecoder.Decode(f.Pose);
                Assert.AreEqual((f.Flags & 1) != 0, pose.Valid, name + ": flags agree with the pose byte");
            }
        }

        [Test]
        public void ParsesStreamEndAndEncodesSubscribeRequest()
        {
            StreamVector v = Get("end");
            StreamMessage m = CoachProto.ParseStreamMessage(TestVectors.FromHex(v.Hex));
            Assert.AreEqual(StreamMessageKind.End, m.Kind);
            Assert.AreEqual(v.End.Reason, m.End.Reason);
            Assert.AreEqual(v.End.FramesSent, m.End.FramesSent);
            Assert.AreEqual(v.End.FramesDropped, m.End.FramesDropped);

            StreamVector req = Get("subscribe_request");
            Assert.AreEqual(req.Hex, BitConverter.ToString(CoachProto.EncodeSubscribeRequest(req.SessionId)).Replace("-", "").ToLowerInvariant());
            Assert.AreEqual(req.SessionId, CoachProto.DecodeSubscribeRequest(CoachProto.EncodeSubscribeRequest(req.SessionId)));
            Assert.AreEqual(0, CoachProto.EncodeSubscribeRequest("").Length);
        }

        [Test]
        public void SkipsUnknownFieldsAndRejectsTruncation()
        {
            byte[] frame = TestVectors.FromHex(Get("frame").Hex);
            // Unknown top-level field 9 (varint) and 10 (fixed64) before the real content.
            var extended = new byte[frame.Length + 12];
            extended[0] = (9 << 3) | 0; extended[1] = 0x96; extended[2] = 0x01;
            extended[3] = (10 << 3) | 1; // 8 bytes follow (zeros)
            Array.Copy(frame, 0, extended, 12, frame.Length);
            StreamMessage m = CoachProto.ParseStreamMessage(extended);
            Assert.AreEqual(StreamMessageKind.Frame, m.Kind);
            Assert.AreEqual(12345678901UL, m.Frame.Sequence);

            Assert.AreEqual(StreamMessageKind.None, CoachProto.ParseStreamMessage(new byte[0]).Kind);
            for (int cut = 1; cut < frame.Length; cut += 7)
            {
                var part = new byte[cut];
                Array.Copy(frame, part, cut);
                Assert.Throws<FormatException>(() => CoachProto.ParseStreamMessage(part), "cut at " + cut);
            }
        }
    }
}
