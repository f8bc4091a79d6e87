using System;
using System.Collections.Generic;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    [TestFixture]
    public class SmplRigTests
    {
        [Test]
        public void JointOrderAndParentsMatchPython()
        {
            VectorFile v = TestVectors.Load();
            CollectionAssert.AreEqual(v.JointNames, SmplSkeleton.Names);
            CollectionAssert.AreEqual(v.JointParents, SmplSkeleton.Parents);
            Assert.AreEqual(0, SmplSkeleton.IndexOf("PELVIS"));
            Assert.AreEqual(23, SmplSkeleton.IndexOf("right_hand"));
            Assert.AreEqual(-1, SmplSkeleton.IndexOf("tail"));
            for (int j = 1; j < SmplSkeleton.JointCount; j++)
            {
                Assert.Less(SmplSkeleton.Parent(j), j, "parents come before children");
            }
        }

        [Test]
        public void IdentityRestRigGivesConvertedLocalsAndGlobals()
        {
            var rig = new SmplRig(SmplRigMapping.SmplNames());
            var pose = new RigPose();
            foreach (VectorCase c in TestVectors.Load().Cases)
            {
                PoseFrame f = PoseFrameDecoder.Decode(c.Bytes);
                rig.Solve(f, pose);
                Assert.AreEqual(c.Valid, pose.Valid);
                TestUtil.AreEqual(TestVectors.V(c.UnityPelvisM), pose.PelvisPosition, TestUtil.Tol, c.Name);
                for (int j = 0; j < SmplSkeleton.JointCount; j++)
                {
                    TestUtil.AreEqual(TestVectors.Q(c.UnityQuats[j]), pose.LocalRotations[j], TestUtil.Tol, c.Name + " local " + j);
                    TestUtil.SameRotation(TestVectors.Q(c.UnityGlobalQuats[j]), pose.ModelRotations[j], TestUtil.Tol, c.Name + " model " + j);
                }
            }
        }

        [Test]
        public void UnmappedJointIsFoldedIntoChild()
        {
            SmplRigMapping m = SmplRigMapping.SmplNames().Set("spine2", null);
            var rig = new SmplRig(m);
            Assert.AreEqual(3, rig.MappedParent(9), "spine3 now hangs off spine1");
            PoseFrame f = PoseFrameDecoder.Decode(TestVectors.Case("random_2").Bytes);
            var pose = new RigPose();
            rig.Solve(f, pose);
            Quat expected = CoordinateConversion.WireToUnity(f.Rotations[6]) * CoordinateConversion.WireToUnity(f.Rotations[9]);
            TestUtil.AreEqual(expected, pose.LocalRotations[9], 1e-12, "spine3 local");
            // Children of spine3 are unaffected.
            TestUtil.AreEqual(CoordinateConversion.WireToUnity(f.Rotations[12]), pose.LocalRotations[12], 1e-12, "neck local");
        }

        [Test]
        public void RestRotationsKeepZeroPoseAtRest()
        {
            var rng = new Random(5);
            var rest = new Quat[SmplSkeleton.JointCount];
            for (int j = 0; j < rest.Length; j++)
            {
                rest[j] = TestUtil.RandomQuat(rng);
            }
            var rig = new SmplRig(SmplRigMapping.SmplNames(), rest);
            var pose = new RigPose();
            var zero = new Quat[SmplSkeleton.JointCount];
            for (int j = 0; j < zero.Length; j++)
            {
                zero[j] = Quat.Identity;
            }
            rig.Solve(zero, Vec3.Zero, true, pose);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                TestUtil.AreEqual(rest[j], pose.ModelRotations[j], 1e-12, "model " + j);
                int p = SmplSkeleton.Parent(j);
                Quat expectedLocal = p < 0 ? rest[j] : rest[p].Conjugate * rest[j];
                TestUtil.AreEqual(expectedLocal, pose.LocalRotations[j], 1e-12, "local " + j);
            }
        }

        [Test]
        public void RestRotationsDoNotChangeWhereBonesPoint()
        {
            // A bone's direction in model space (rest direction d, expressed in the bone frame as
            // Rest^-1 d) must end up at G d whatever the rig's rest orientation is.
            var rng = new Random(6);
            var rest = new Quat[SmplSkeleton.JointCount];
            for (int j = 0; j < rest.Length; j++)
            {
                rest[j] = TestUtil.RandomQuat(rng);
            }
            PoseFrame f = PoseFrameDecoder.Decode(TestVectors.Case("random_3").Bytes);
            var withRest = new RigPose();
            var plain = new RigPose();
            new SmplRig(SmplRigMapping.SmplNames(), rest).Solve(f, withRest);
            new SmplRig(SmplRigMapping.SmplNames()).Solve(f, plain);
            var d = new Vec3(0.3, -0.5, 0.8);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                Vec3 boneLocal = rest[j].Conjugate.Rotate(d);
                TestUtil.AreEqual(plain.ModelRotations[j].Rotate(d), withRest.ModelRotations[j].Rotate(boneLocal), 1e-12, "joint " + j);
            }
        }

        [Test]
        public void LocalRotationsComposeBackToModelRotations()
        {
            SmplRigMapping m = SmplRigMapping.Mixamo("mixamorig:");
            var rig = new SmplRig(m);
            var pose = new RigPose();
            rig.Solve(PoseFrameDecoder.Decode(TestVectors.Case("motion_5").Bytes), pose);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                if (!m.IsMapped(j))
                {
                    continue;
                }
                int p = rig.MappedParent(j);
                Quat composed = p < 0 ? pose.LocalRotations[j] : pose.ModelRotations[p] * pose.LocalRotations[j];
                TestUtil.AreEqual(pose.ModelRotations[j], composed, 1e-12, "joint " + j);
            }
        }

        [Test]
        public void AlignmentTurnsBodyFrameIntoAvatarFrame()
        {
            // Avatar facing +z (Unity convention) with world-aligned bones at rest.
            var rig = new SmplRig(SmplRigMapping.SmplNames(), null, SmplRig.FacingPositiveZ);
            var pose = new RigPose();
            var zero = new Quat[SmplSkeleton.JointCount];
            for (int j = 0; j < zero.Length; j++) zero[j] = Quat.Identity;
            // Body facing the camera, 3 m in front of it and 0.5 m to the camera's right (wire frame).
            rig.Solve(zero, new Vec3(0.5, 0.9, -3.0), true, pose);
            TestUtil.AreEqual(Quat.Identity, pose.ModelRotations[0].W < 0 ? pose.ModelRotations[0].Negated : pose.ModelRotations[0], 1e-12, "zero pose stays at rest");
            // Camera at the origin looking along -z (avatar frame): its right is -x.
            TestUtil.AreEqual(new Vec3(-0.5, 0.9, -3.0), pose.PelvisPosition, 1e-12, "pelvis");

            // Turning the body +90 deg about y on the wire (its front +z -> +x, to the camera's right)
            // must turn the avatar's front (+z) towards the camera's right (-x) in the avatar frame.
            zero[0] = Quat.FromAxisAngle(new Vec3(0, 1, 0), Math.PI / 2);
            rig.Solve(zero, Vec3.Zero, true, pose);
            TestUtil.AreEqual(new Vec3(-1, 0, 0), pose.ModelRotations[0].Rotate(new Vec3(0, 0, 1)), 1e-12, "facing");

            // The body's left arm (+x in SMPL) lies at -x in a +z-facing avatar; raising it by
            // rotating the left shoulder about the body's forward axis (-z on the wire for the
            // left arm going up: R_z(+90) maps +x to +y) must raise the avatar's left arm too.
            zero[0] = Quat.Identity;
            zero[16] = Quat.FromAxisAngle(new Vec3(0, 0, 1), Math.PI / 2);
            rig.Solve(zero, Vec3.Zero, true, pose);
            TestUtil.AreEqual(new Vec3(0, 1, 0), pose.ModelRotations[16].Rotate(new Vec3(-1, 0, 0)), 1e-12, "left arm up");
        }

        [Test]
        public void PresetsAndOverrides()
        {
            SmplRigMapping mixamo = SmplRigMapping.Mixamo("mixamorig:");
            Assert.AreEqual("mixamorig:Hips", mixamo[0]);
            Assert.AreEqual("mixamorig:RightForeArm", mixamo[19]);
            Assert.IsFalse(mixamo.IsMapped(22));
            Assert.IsFalse(mixamo.IsMapped(23));

            SmplRigMapping fbx = SmplRigMapping.SmplFbx("m_avg_");
            Assert.AreEqual("m_avg_Pelvis", fbx[0]);
            Assert.AreEqual("m_avg_R_Hand", fbx[23]);

            SmplRigMapping m = SmplRigMapping.SmplNames().ApplyOverrides(
                "# my rig\n  pelvis = Hips \r\nleft_hand =\n\nhead=Head_jnt\n");
            Assert.AreEqual("Hips", m[0]);
            Assert.IsNull(m[22]);
            Assert.AreEqual("Head_jnt", m[15]);
            Assert.AreEqual("left_hip", m[1]);

            SmplRigMapping copy = new SmplRigMapping().ApplyOverrides(m.ToString());
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                Assert.AreEqual(m[j], copy[j], "round trip " + j);
            }
            Assert.Throws<ArgumentException>(() => m.Set("tail", "Tail"));
            Assert.Throws<FormatException>(() => m.ApplyOverrides("pelvis Hips"));

            var available = new HashSet<string>(new[] { "Hips", "left_hip" });
            List<int> missing = m.MissingBones(available);
            Assert.IsFalse(missing.Contains(0));
            Assert.IsFalse(missing.Contains(22), "unmapped joints are not missing");
            Assert.IsTrue(missing.Contains(15));
        }

        [Test]
        public void RigCopiesMapping()
        {
            SmplRigMapping m = SmplRigMapping.SmplNames();
            var rig = new SmplRig(m);
            m[0] = "changed";
            Assert.AreEqual("pelvis", rig.Mapping[0]);
        }
    }
}
