using System;

namespace CoachBridge.Core
{
    /// <summary>
    /// Minimal unit quaternion in double precision, component order (x, y, z, w) as in scipy and
    /// on the wire. Hamilton convention: <c>a * b</c> applies <c>b</c> first, then <c>a</c>
    /// (same as UnityEngine.Quaternion and scipy's <c>Rotation.__mul__</c>).
    /// </summary>
    [Serializable]
    public struct Quat : IEquatable<Quat>
    {
        public double X;
        public double Y;
        public double Z;
        public double W;

        public Quat(double x, double y, double z, double w)
        {
            X = x;
            Y = y;
            Z = z;
            W = w;
        }

        public static readonly Quat Identity = new Quat(0.0, 0.0, 0.0, 1.0);

        public double Norm { get { return Math.Sqrt(X * X + Y * Y + Z * Z + W * W); } }

        public Quat Normalized
        {
            get
            {
                double n = Norm;
                if (n < 1e-12)
                {
                    return Identity;
                }
                return new Quat(X / n, Y / n, Z / n, W / n);
            }
        }

        /// <summary>Conjugate; equals the inverse for a unit quaternion.</summary>
        public Quat Conjugate { get { return new Quat(-X, -Y, -Z, W); } }

        public Quat Negated { get { return new Quat(-X, -Y, -Z, -W); } }

        public static double Dot(Quat a, Quat b) { return a.X * b.X + a.Y * b.Y + a.Z * b.Z + a.W * b.W; }

        public static Quat operator *(Quat a, Quat b)
        {
            return new Quat(
                a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
                a.W * b.Y - a.X * b.Z + a.Y * b.W + a.Z * b.X,
                a.W * b.Z + a.X * b.Y - a.Y * b.X + a.Z * b.W,
                a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z);
        }

        /// <summary>Rotates a vector by this (unit) quaternion.</summary>
        public Vec3 Rotate(Vec3 v)
        {
            // v' = v + 2w (q x v) + 2 q x (q x v)
            double tx = 2.0 * (Y * v.Z - Z * v.Y);
            double ty = 2.0 * (Z * v.X - X * v.Z);
            double tz = 2.0 * (X * v.Y - Y * v.X);
            return new Vec3(
                v.X + W * tx + (Y * tz - Z * ty),
                v.Y + W * ty + (Z * tx - X * tz),
                v.Z + W * tz + (X * ty - Y * tx));
        }

        /// <summary>Rotation of <paramref name="angleRad"/> radians about <paramref name="axis"/>.</summary>
        public static Quat FromAxisAngle(Vec3 axis, double angleRad)
        {
            double n = axis.Length;
            if (n < 1e-12)
            {
                return Identity;
            }
            double s = Math.Sin(angleRad * 0.5) / n;
            return new Quat(axis.X * s, axis.Y * s, axis.Z * s, Math.Cos(angleRad * 0.5));
        }

        /// <summary>Rotation vector (axis * angle, radians), as used at the Python interfaces.</summary>
        public static Quat FromRotationVector(Vec3 rotvec)
        {
            return FromAxisAngle(rotvec, rotvec.Length);
        }

        /// <summary>Rotation angle between two orientations in radians (0..pi), sign-insensitive.</summary>
        public static double AngleBetween(Quat a, Quat b)
        {
            double d = Math.Abs(Dot(a.Normalized, b.Normalized));
            if (d > 1.0)
            {
                d = 1.0;
            }
            return 2.0 * Math.Acos(d);
        }

        /// <summary>
        /// Spherical interpolation along the shorter arc. <paramref name="t"/> outside [0, 1]
        /// extrapolates along the same great circle (constant angular velocity).
        /// </summary>
        public static Quat Slerp(Quat a, Quat b, double t)
        {
            double dot = Dot(a, b);
            if (dot < 0.0)
            {
                b = b.Negated;
                dot = -dot;
            }
            if (dot > 0.9999995)
            {
                // Nearly identical: normalized lerp is exact to well below 1e-9 here.
                return new Quat(
                    a.X + (b.X - a.X) * t,
                    a.Y + (b.Y - a.Y) * t,
                    a.Z + (b.Z - a.Z) * t,
                    a.W + (b.W - a.W) * t).Normalized;
            }
            double theta = Math.Acos(Math.Min(1.0, dot));
            double sinTheta = Math.Sin(theta);
            double wa = Math.Sin((1.0 - t) * theta) / sinTheta;
            double wb = Math.Sin(t * theta) / sinTheta;
            return new Quat(
                wa * a.X + wb * b.X,
                wa * a.Y + wb * b.Y,
                wa * a.Z + wb * b.Z,
                wa * a.W + wb * b.W).Normalized;
        }

        public bool Equals(Quat other) { return X == other.X && Y == other.Y && Z == other.Z && W == other.W; }
        public override bool Equals(object obj) { return obj is Quat && Equals((Quat)obj); }

        public override int GetHashCode()
        {
            return X.GetHashCode() ^ (Y.GetHashCode() << 2) ^ (Z.GetHashCode() >> 2) ^ (W.GetHashCode() << 1);
        }

        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "({0:F6}, {1:F6}, {2:F6}, {3:F6})", X, Y, Z, W);
        }
    }
}
