using System;

namespace CoachBridge.Core
{
    /// <summary>Per-bone result of <see cref="SmplRig.Solve"/>, in Unity's frame.</summary>
    public sealed class RigPose
    {
        /// <summary>True when the source frame had a person.</summary>
        public bool Valid;

        /// <summary>Pelvis position in metres, Unity frame and avatar alignment (origin = the video camera).</summary>
        public Vec3 PelvisPosition;

        /// <summary>Bone rotation relative to the avatar root (model space), per SMPL joint.</summary>
        public readonly Quat[] ModelRotations = new Quat[SmplSkeleton.JointCount];

        /// <summary>
        /// Bone rotation relative to the bone of the nearest mapped SMPL ancestor (the avatar root
        /// for the pelvis). Equals Unity's <c>localRotation</c> when that bone is the direct parent
        /// transform in the rig.
        /// </summary>
        public readonly Quat[] LocalRotations = new Quat[SmplSkeleton.JointCount];
    }

    /// <summary>
    /// Maps decoded SMPL poses onto an avatar rig.
    ///
    /// SMPL rotations are relative to SMPL's zero pose (a T-pose) with every joint frame aligned
    /// to the body frame. A rig bone generally has its own rest orientation <c>Rest_j</c>
    /// (model space, captured while the avatar stands in the same T-pose). The posed model-space
    /// rotation of the bone is then <c>M_j = G_j * Rest_j</c>, where <c>G_j</c> is the SMPL global
    /// rotation of joint j (composed along the kinematic tree, converted to Unity). For a rig whose
    /// bones are all world-aligned at rest (Rest = identity), the local rotations are just the
    /// converted SMPL local rotations. Unmapped joints are composed into <c>G</c> of their
    /// descendants, so a rig with fewer spine bones still bends correctly.
    ///
    /// Avatar alignment. After <see cref="CoordinateConversion"/> the SMPL zero pose faces -z in
    /// Unity (towards a camera looking along +z). Unity avatars usually face +z in their own model
    /// space (Unity's convention; glTFast imports a +z-facing glTF mirrored in x, so it faces +z too).
    /// <c>alignment</c> is the rotation from the converted SMPL body frame to the avatar's model
    /// frame: <see cref="FacingPositiveZ"/> (180 deg about y) for such avatars, identity for an
    /// avatar that faces -z. Rotations become <c>A G A^-1</c> and positions <c>A p</c>. With
    /// FacingPositiveZ, a body facing the video camera faces along the avatar root's +z, and the
    /// camera sits on that side: place the avatar root facing the viewer to reproduce the video view.
    /// </summary>
    public sealed class SmplRig
    {
        private readonly SmplRigMapping mapping;
        /// <summary>180 deg about y: for avatars that face +z in model space (the Unity convention).</summary>
        public static readonly Quat FacingPositiveZ = new Quat(0.0, 1.0, 0.0, 0.0);

        private readonly Quat[] rest = new Quat[SmplSkeleton.JointCount];
        private readonly Quat alignment;
        private readonly int[] mappedParent = new int[SmplSkeleton.JointCount];
        private readonly Quat[] unityLocal = new Quat[SmplSkeleton.JointCount];
        private readonly Quat[] global = new Quat[SmplSkeleton.JointCount];

        /// <param name="mapping">Joint to bone-name table (copied).</param>
        /// <param name="restModelRotations">Per-joint rest rotation of the mapped bone relative to
        /// the avatar root (Unity frame); null means identity for all.</param>
        /// <param name="alignment">Rotation from the converted SMPL body frame to the avatar's
        /// model frame (identity or <see cref="FacingPositiveZ"/>).</param>
        public SmplRig(SmplRigMapping mapping, Quat[] restModelRotations, Quat alignment)
        {
            if (mapping == null)
            {
                throw new ArgumentNullException("mapping");
            }
            if (restModelRotations != null && restModelRotations.Length != SmplSkeleton.JointCount)
            {
                throw new ArgumentException("need " + SmplSkeleton.JointCount + " rest rotations", "restModelRotations");
            }
            this.mapping = mapping.Clone();
            this.alignment = alignment.Normalized;
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                rest[j] = restModelRotations == null ? Quat.Identity : restModelRotations[j].Normalized;
                int p = SmplSkeleton.Parent(j);
                while (p >= 0 && !this.mapping.IsMapped(p))
                {
                    p = SmplSkeleton.Parent(p);
                }
                mappedParent[j] = p;
            }
        }

        /// <summary>Rig without alignment (avatar model space = converted SMPL body frame).</summary>
        public SmplRig(SmplRigMapping mapping, Quat[] restModelRotations)
            : this(mapping, restModelRotations, Quat.Identity) { }

        public SmplRig(SmplRigMapping mapping) : this(mapping, null, Quat.Identity) { }

        public Quat Alignment { get { return alignment; } }

        public SmplRigMapping Mapping { get { return mapping.Clone(); } }

        /// <summary>Nearest mapped SMPL ancestor of joint j, or -1 (avatar root).</summary>
        public int MappedParent(int joint) { return mappedParent[joint]; }

        /// <summary>Computes bone rotations for <paramref name="frame"/> (wire frame) into <paramref name="output"/>.</summary>
        public void Solve(PoseFrame frame, RigPose output)
        {
            if (frame == null)
            {
                throw new ArgumentNullException("frame");
            }
            Solve(frame.Rotations, frame.PelvisPosition, frame.Valid, output);
        }

        /// <summary>Same as <see cref="Solve(PoseFrame, RigPose)"/> from raw wire-frame data.</summary>
        public void Solve(Quat[] wireLocalRotations, Vec3 wirePelvis, bool valid, RigPose output)
        {
            Quat alignInv = alignment.Conjugate;
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                // Conjugating every local rotation equals conjugating the composed globals.
                unityLocal[j] = alignment * CoordinateConversion.WireToUnity(wireLocalRotations[j]) * alignInv;
            }
            SmplSkeleton.LocalToGlobal(unityLocal, global);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                output.ModelRotations[j] = global[j] * rest[j];
            }
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                int p = mappedParent[j];
                output.LocalRotations[j] = p < 0
                    ? output.ModelRotations[j]
                    : output.ModelRotations[p].Conjugate * output.ModelRotations[j];
            }
            output.PelvisPosition = alignment.Rotate(CoordinateConversion.WireToUnity(wirePelvis));
            output.Valid = valid;
        }
    }
}
