using System;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    [TestFixture]
    public class CoordinateConversionTests
    {
        [Test]
        public void MatchesUnityExpectationsInVectors()
        {
            foreach (VectorCase c in TestVectors.Load().Cases)
            {
                PoseFrame f = PoseFrameDecoder.Decode(c.Bytes);
                var rot = new Quat[SmplSkeleton.JointCount];
                Vec3 pelvis;
                CoordinateConversion.WireToUnity(f, rot, out pelvis);
                TestUtil.AreEqual(TestVectors.V(c.UnityPelvisM), pelvis, TestUtil.Tol, c.Name + ": unity pelvis");
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    TestUtil.AreEqual(TestVectors.Q(c.UnityQuats[j]), rot[j], TestUtil.Tol, c.Name + ": unity joint " + j);
                }
            }
        }

        [Test]
        public void ConvertedRotationActsOnConvertedVectors()
        {
            // Mirror S: S (R v) must equal R_unity (S v) for every rotation and vector.
            var rng = new Random(1);
            for (int i = 0; i < 200; i++)
            {
                Quat q = TestUtil.RandomQuat(rng);
                Vec3 v = TestUtil.RandomVec(rng, 2.0);
                Vec3 expected = CoordinateConversion.WireToUnity(q.Rotate(v));
                Vec3 actual = CoordinateConversion.WireToUnity(q).Rotate(CoordinateConversion.WireToUnity(v));
                TestUtil.AreEqual(expected, actual, 1e-12, "sample " + i);
            }
        }

        [Test]
        public void ConversionPreservesComposition()
        {
            var rng = new Random(2);
            for (int i = 0; i < 100; i++)
            {
                Quat a = TestUtil.RandomQuat(rng), b = TestUtil.RandomQuat(rng);
                TestUtil.AreEqual(CoordinateConversion.WireToUnity(a * b),
                    CoordinateConversion.WireToUnity(a) * CoordinateConversion.WireToUnity(b), 1e-12, "sample " + i);
            }
        }

        [Test]
        public void RoundTrips()
        {
            var q = new Quat(0.1, -0.2, 0.3, 0.927);
            Assert.AreEqual(q, CoordinateConversion.UnityToWire(CoordinateConversion.WireToUnity(q)));
            var p = new Vec3(1, 2, 3);
            Assert.AreEqual(p, CoordinateConversion.UnityToWire(CoordinateConversion.WireToUnity(p)));
            Assert.AreEqual(new Vec3(1, 2, -3), CoordinateConversion.WireToUnity(p));
            Assert.AreEqual(new Quat(-0.1, 0.2, 0.3, 0.927), CoordinateConversion.WireToUnity(q));
        }

        [Test]
        public void BodyFacingViewerOnWireFacesUnityCamera()
        {
            // SMPL faces +z on the wire (towards the viewer); a Unity camera looks along +z, so the
            // avatar must face -z in Unity. Turning the body +90 deg about y on the wire (right-handed:
            // +z -> +x) still turns the facing direction to +x in Unity: the physical motion is kept.
            var forward = new Vec3(0, 0, 1);
            TestUtil.AreEqual(new Vec3(0, 0, -1), CoordinateConversion.WireToUnity(forward), 0, "rest facing");
            Quat yaw90 = Quat.FromAxisAngle(new Vec3(0, 1, 0), Math.PI / 2);
            TestUtil.AreEqual(new Vec3(1, 0, 0), yaw90.Rotate(forward), 1e-12, "wire turn");
            Vec3 unityFacing = CoordinateConversion.WireToUnity(yaw90).Rotate(CoordinateConversion.WireToUnity(forward));
            TestUtil.AreEqual(new Vec3(1, 0, 0), unityFacing, 1e-12, "unity turn");
        }

        [Test]
        public void ConvertingLocalsEqualsConvertingGlobals()
        {
            VectorCase c = TestVectors.Case("random_1");
            PoseFrame f = PoseFrameDecoder.Decode(c.Bytes);
            var wireGlobal = new Quat[SmplSkeleton.JointCount];
            SmplSkeleton.LocalToGlobal(f.Rotations, wireGlobal);
            var unityLocal = new Quat[SmplSkeleton.JointCount];
            Vec3 pelvis;
            CoordinateConversion.WireToUnity(f, unityLocal, out pelvis);
            var unityGlobal = new Quat[SmplSkeleton.JointCount];
            SmplSkeleton.LocalToGlobal(unityLocal, unityGlobal);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                TestUtil.AreEqual(CoordinateConversion.WireToUnity(wireGlobal[j]), unityGlobal[j], 1e-12, "joint " + j);
                TestUtil.AreEqual(TestVectors.Q(c.UnityGlobalQuats[j]), unityGlobal[j], TestUtil.Tol, "vector joint " + j);
            }
        }
    }
}
