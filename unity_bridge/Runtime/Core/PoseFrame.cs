using System;

namespace CoachBridge.Core
{
    /// <summary>
    /// One decoded body pose, still in the wire frame (right-handed, y up, z towards the viewer;
    /// see docs/CONTRIBUTING-internal.md). Use <see cref="CoordinateConversion"/> for Unity.
    /// </summary>
    public sealed class PoseFrame
    {
        /// <summary>Number of SMPL joints carried per frame.</summary>
        public const int JointCount = SmplSkeleton.JointCount;

        /// <summary>Wire layout version the frame was decoded from.</summary>
        public int Version { get; private set; }

        /// <summary>Raw flags byte (bit 0 = person present).</summary>
        public byte Flags { get; private set; }

        /// <summary>True when a person was detected; when false the rotations carry no meaning.</summary>
        public bool Valid { get { return (Flags & PoseFrameDecoder.FlagValid) != 0; } }

        /// <summary>
        /// 24 unit quaternions (x, y, z, w) in SMPL joint order. Index 0 is the global orientation,
        /// 1..23 are local rotations relative to the parent joint.
        /// </summary>
        public Quat[] Rotations { get; private set; }

        /// <summary>Pelvis (root joint) position in metres.</summary>
        public Vec3 PelvisPosition { get; private set; }

        public PoseFrame(int version, byte flags, Quat[] rotations, Vec3 pelvisPosition)
        {
            if (rotations == null)
            {
                throw new ArgumentNullException("rotations");
            }
            if (rotations.Length != JointCount)
            {
                throw new ArgumentException(
                    "expected " + JointCount + " joint rotations, got " + rotations.Length, "rotations");
            }
            Version = version;
            Flags = flags;
            Rotations = rotations;
            PelvisPosition = pelvisPosition;
        }

        /// <summary>A frame with <see cref="Valid"/> = false and the zero pose.</summary>
        public static PoseFrame Invalid()
        {
            var rotations = new Quat[JointCount];
            for (int i = 0; i < JointCount; i++)
            {
                rotations[i] = Quat.Identity;
            }
            return new PoseFrame(PoseFrameDecoder.LayoutVersion, 0, rotations, Vec3.Zero);
        }

        /// <summary>A valid frame (flags = 1) from explicit rotations and pelvis position.</summary>
        public static PoseFrame Create(Quat[] rotations, Vec3 pelvisPosition)
        {
            return new PoseFrame(PoseFrameDecoder.LayoutVersion, PoseFrameDecoder.FlagValid,
                (Quat[])rotations.Clone(), pelvisPosition);
        }
    }
}
