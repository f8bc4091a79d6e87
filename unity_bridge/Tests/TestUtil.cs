using System;
using CoachBridge.Core;
using NUnit.Framework;

namespace CoachBridge.Tests
{
    internal static class TestUtil
    {
        public const double Tol = 1e-6;

        public static void AreEqual(Quat expected, Quat actual, double tol, string what)
        {
            double err = Math.Max(Math.Max(Math.Abs(expected.X - actual.X), Math.Abs(expected.Y - actual.Y)),
                Math.Max(Math.Abs(expected.Z - actual.Z), Math.Abs(expected.W - actual.W)));
            if (err > tol)
            {
                Assert.Fail("{0}: expected {1}, got {2} (max abs diff {3:E2})", what, expected, actual, err);
            }
        }

        /// <summary>Same rotation (q or -q).</summary>
        public static void SameRotation(Quat expected, Quat actual, double tol, string what)
        {
            if (Quat.Dot(expected, actual) < 0)
            {
                actual = actual.Negated;
            }
            AreEqual(expected, actual, tol, what);
        }

        public static void AreEqual(Vec3 expected, Vec3 actual, double tol, string what)
        {
            double err = Math.Max(Math.Abs(expected.X - actual.X),
                Math.Max(Math.Abs(expected.Y - actual.Y), Math.Abs(expected.Z - actual.Z)));
            if (err > tol)
            {
                Assert.Fail("{0}: expected {1}, got {2} (max abs diff {3:E2})", what, expected, actual, err);
            }
        }

        public static Quat RandomQuat(Random rng)
        {
            // Uniform on SO(3) (Shoemake).
            double u1 = rng.NextDouble(), u2 = rng.NextDouble() * 2 * Math.PI, u3 = rng.NextDouble() * 2 * Math.PI;
            double a = Math.Sqrt(1 - u1), b = Math.Sqrt(u1);
            return new Quat(a * Math.Sin(u2), a * Math.Cos(u2), b * Math.Sin(u3), b * Math.Cos(u3));
        }

        public static Vec3 RandomVec(Random rng, double scale)
        {
            return new Vec3((rng.NextDouble() * 2 - 1) * scale, (rng.NextDouble() * 2 - 1) * scale,
                (rng.NextDouble() * 2 - 1) * scale);
        }

        /// <summary>A valid frame: every joint rotated by angle about y, pelvis at (angle, 1, 0).</summary>
        public static PoseFrame YawFrame(double angle)
        {
            var rotations = new Quat[SmplSkeleton.JointCount];
            for (int j = 0; j < rotations.Length; j++)
            {
                rotations[j] = Quat.FromAxisAngle(new Vec3(0, 1, 0), angle);
            }
            return PoseFrame.Create(rotations, new Vec3(angle, 1, 0));
        }

        /// <summary>Yaw angle (about y) of a quaternion that is a pure rotation about y.</summary>
        public static double Yaw(Quat q)
        {
            if (q.W < 0)
            {
                q = q.Negated;
            }
            return 2 * Math.Atan2(q.Y, q.W);
        }
    }
}
