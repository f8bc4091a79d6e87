namespace CoachBridge.Core
{
    /// <summary>
    /// Converts between the wire frame and Unity's frame.
    ///
    /// Wire frame (docs/CONTRIBUTING-internal.md): right-handed, y up, x right, z towards the
    /// viewer (OpenGL camera axes); the SMPL body faces +z in its zero pose.
    /// Unity: left-handed, y up, x right, z forward (away from the viewer).
    ///
    /// Derivation. Both frames share x and y, so the change of basis is the mirror
    /// S = diag(1, 1, -1) (S = S^-1 = S^T, det S = -1):
    /// <list type="bullet">
    /// <item>positions: p_unity = S p_wire = (x, y, -z).</item>
    /// <item>rotations: a rotation acts as v' = R v in wire coordinates; in Unity coordinates the
    /// same physical motion is v'_u = S R S v_u, so R_unity = S R S. For any orthogonal M,
    /// M R(axis a, angle t) M^T = R(det(M) * M a, t). With M = S: axis (-ax, -ay, az), same angle.
    /// The quaternion (sin(t/2) a, cos(t/2)) therefore becomes (-x, -y, z, w).</item>
    /// </list>
    /// Unity evaluates a quaternion with the same algebra (same matrix formula, same Hamilton
    /// product, a * b applies b first); only its handedness differs, which is exactly what the
    /// mirror accounts for. Because conjugation by S is a group homomorphism
    /// (S(AB)S = (SAS)(SBS)), converting every local joint rotation is the same as converting the
    /// composed global rotations, so the kinematic chain can be built before or after converting.
    /// Result: the avatar faces -z in Unity, i.e. towards a default camera looking along +z, just
    /// as the SMPL body faces the viewer on the wire. Left and right limbs are not swapped: this
    /// is a change of basis, not a physical mirror of the body.
    /// </summary>
    public static class CoordinateConversion
    {
        /// <summary>Wire (right-handed) rotation to Unity (left-handed): (x, y, z, w) -> (-x, -y, z, w).</summary>
        public static Quat WireToUnity(Quat q)
        {
            return new Quat(-q.X, -q.Y, q.Z, q.W);
        }

        /// <summary>Wire (right-handed) position to Unity (left-handed): (x, y, z) -> (x, y, -z).</summary>
        public static Vec3 WireToUnity(Vec3 p)
        {
            return new Vec3(p.X, p.Y, -p.Z);
        }

        /// <summary>Inverse of <see cref="WireToUnity(Quat)"/> (the mirror is its own inverse).</summary>
        public static Quat UnityToWire(Quat q)
        {
            return new Quat(-q.X, -q.Y, q.Z, q.W);
        }

        /// <summary>Inverse of <see cref="WireToUnity(Vec3)"/>.</summary>
        public static Vec3 UnityToWire(Vec3 p)
        {
            return new Vec3(p.X, p.Y, -p.Z);
        }

        /// <summary>Converts a whole frame's rotations (into <paramref name="rotationsOut"/>, 24 entries) and pelvis into Unity's frame.</summary>
        public static void WireToUnity(PoseFrame frame, Quat[] rotationsOut, out Vec3 pelvisOut)
        {
            for (int i = 0; i < frame.Rotations.Length; i++)
            {
                rotationsOut[i] = WireToUnity(frame.Rotations[i]);
            }
            pelvisOut = WireToUnity(frame.PelvisPosition);
        }
    }
}
