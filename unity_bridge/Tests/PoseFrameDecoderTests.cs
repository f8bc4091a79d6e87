using System;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    [TestFixture]
    public class PoseFrameDecoderTests
    {
        [Test]
        public void VectorFileMatchesThisDecoder()
        {
            VectorFile v = TestVectors.Load();
            Assert.AreEqual(PoseFrameDecoder.LayoutVersion, v.LayoutVersion);
            Assert.AreEqual(PoseFrameDecoder.FrameSize, v.FrameBytes);
            Assert.LessOrEqual(v.Tolerance, 1e-6);
            Assert.GreaterOrEqual(v.Cases.Length, 20);
        }

        [Test]
        public void DecodesEveryPythonVector()
        {
            int checkedCases = 0;
            foreach (VectorCase c in TestVectors.Load().Cases)
            {
                PoseFrame f = PoseFrameDecoder.Decode(c.Bytes);
                Assert.AreEqual(1, f.Version, c.Name);
                Assert.AreEqual(c.Valid, f.Valid, c.Name + ": valid flag");
                TestUtil.AreEqual(TestVectors.V(c.PelvisM), f.PelvisPosition, TestUtil.Tol, c.Name + ": pelvis");
                Assert.AreEqual(SmplSkeleton.JointCount, c.Quats.Length, c.Name);
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    string what = c.Name + ": joint " + j + " (" + SmplSkeleton.Name(j) + ")";
                    // Exact wire sign convention: the dropped component is non-negative.
                    TestUtil.AreEqual(TestVectors.Q(c.Quats[j]), f.Rotations[j], TestUtil.Tol, what);
                    Assert.AreEqual(1.0, f.Rotations[j].Norm, 1e-9, what + " unit norm");
                    // Python's decode_pose returns rotation vectors: the same rotation.
                    Quat fromRotvec = Quat.FromRotationVector(TestVectors.V(c.Rotvecs[j]));
                    TestUtil.SameRotation(fromRotvec, f.Rotations[j], TestUtil.Tol, what + " vs rotvec");
                }
                checkedCases++;
            }
            Assert.Greater(checkedCases, 0);
        }

        [Test]
        public void CoversAllVectorGroups()
        {
            var groups = new System.Collections.Generic.HashSet<string>();
            foreach (VectorCase c in TestVectors.Load().Cases)
            {
                groups.Add(c.Group);
            }
            foreach (string g in new[] { "identity", "single_axis", "random", "translation", "invalid", "motion" })
            {
                Assert.IsTrue(groups.Contains(g), "vector group missing: " + g);
            }
        }

        [Test]
        public void RejectsBadBlobsFromVectorFile()
        {
            foreach (BadBlob b in TestVectors.Load().BadBlobs)
            {
                byte[] bytes = TestVectors.FromHex(b.Hex);
                var ex = Assert.Throws<PoseFormatException>(() => PoseFrameDecoder.Decode(bytes), b.Name);
                if (b.Error == "length")
                {
                    StringAssert.Contains("104 bytes", ex.Message, b.Name);
                    StringAssert.Contains("got " + bytes.Length, ex.Message, b.Name);
                }
                else
                {
                    Assert.AreEqual("version", b.Error, b.Name);
                    StringAssert.Contains("version " + bytes[0], ex.Message, b.Name);
                }
            }
        }

        [Test]
        public void NullThrows()
        {
            Assert.Throws<ArgumentNullException>(() => PoseFrameDecoder.Decode(null));
        }

        [Test]
        public void DecodesFromOffsetInsideLargerBuffer()
        {
            VectorCase c = TestVectors.Case("random_0");
            byte[] blob = c.Bytes;
            var big = new byte[blob.Length + 13];
            Array.Copy(blob, 0, big, 7, blob.Length);
            PoseFrame a = PoseFrameDecoder.Decode(blob);
            PoseFrame b = PoseFrameDecoder.Decode(big, 7, blob.Length);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                Assert.AreEqual(a.Rotations[j], b.Rotations[j]);
            }
            Assert.AreEqual(a.PelvisPosition, b.PelvisPosition);
            Assert.Throws<ArgumentOutOfRangeException>(() => PoseFrameDecoder.Decode(big, 14, blob.Length));
            Assert.Throws<PoseFormatException>(() => PoseFrameDecoder.Decode(big, 0, big.Length));
        }

        [Test]
        public void ReservedFlagBitsAreIgnored()
        {
            byte[] blob = TestVectors.Case("identity").Bytes;
            blob[1] = 0xFE; // every reserved bit set, valid bit clear
            Assert.IsFalse(PoseFrameDecoder.Decode(blob).Valid);
            blob[1] = 0xFF;
            PoseFrame f = PoseFrameDecoder.Decode(blob);
            Assert.IsTrue(f.Valid);
            Assert.AreEqual(0xFF, f.Flags);
        }

        [Test]
        public void SmallestThreeWordLayout()
        {
            // Largest = w (index 3); x code 1023 -> +1/sqrt2, y code 0 -> -1/sqrt2: z = 512, w dropped.
            uint word = (3u << 30) | (1023u << 20) | (0u << 10) | 512u;
            Quat q = PoseFrameDecoder.DecodeSmallestThree(word);
            double h = Math.Sqrt(0.5);
            Assert.AreEqual(h, q.X, 1e-12);
            Assert.AreEqual(-h, q.Y, 1e-12);
            Assert.AreEqual(512 / 1023.0 * 2 * h - h, q.Z, 1e-12);
            Assert.AreEqual(Math.Sqrt(Math.Max(0, 1 - q.X * q.X - q.Y * q.Y - q.Z * q.Z)), q.W, 1e-12);

            // Largest = y (index 1): the other three are x, z, w in that order.
            word = (1u << 30) | (1023u << 20) | (512u << 10) | 0u;
            q = PoseFrameDecoder.DecodeSmallestThree(word);
            Assert.AreEqual(h, q.X, 1e-12);
            Assert.AreEqual(-h, q.W, 1e-12);
            Assert.GreaterOrEqual(q.Y, 0.0);
        }

        [Test]
        public void PelvisIsLittleEndianSignedMillimetres()
        {
            byte[] blob = TestVectors.Case("identity").Bytes;
            // x = -32767 mm (0x8001), y = 1 mm, z = -1 mm (0xFFFF)
            blob[98] = 0x01; blob[99] = 0x80;
            blob[100] = 0x01; blob[101] = 0x00;
            blob[102] = 0xFF; blob[103] = 0xFF;
            TestUtil.AreEqual(new Vec3(-32.767, 0.001, -0.001), PoseFrameDecoder.Decode(blob).PelvisPosition, 1e-12, "pelvis");
        }

        [Test]
        public void ExtremeTranslationVectorsAreClampedToInt16Range()
        {
            PoseFrame f = PoseFrameDecoder.Decode(TestVectors.Case("translation_clamped").Bytes);
            TestUtil.AreEqual(new Vec3(32.767, -32.767, 32.767), f.PelvisPosition, 1e-12, "clamped pelvis");
        }
    }
}
