using System;

namespace CoachBridge.Core
{
    /// <summary>Thrown when a pose blob does not follow the compact wire layout.</summary>
    public sealed class PoseFormatException : FormatException
    {
        public PoseFormatException(string message) : base(message) { }
    }

    /// <summary>
    /// Decoder for the compact pose wire layout v1 (104 bytes, little-endian), as fixed in
    /// docs/CONTRIBUTING-internal.md:
    /// <list type="bullet">
    /// <item>byte 0: layout version (1)</item>
    /// <item>byte 1: flags, bit 0 = person present; other bits reserved (0) and ignored</item>
    /// <item>bytes 2..97: 24 uint32 "smallest three" quaternions in SMPL joint order</item>
    /// <item>bytes 98..103: pelvis x, y, z as int16 millimetres</item>
    /// </list>
    /// Each uint32: bits 31..30 = index (0..3 into x, y, z, w) of the dropped largest-magnitude
    /// component (made positive before dropping); bits 29..20, 19..10, 9..0 = the other three
    /// components in x, y, z, w order, quantised as round((c + 1/sqrt2) / (2/sqrt2) * 1023).
    /// Decoding: c = code / 1023 * (2/sqrt2) - 1/sqrt2, dropped = sqrt(max(0, 1 - sum c^2)).
    /// Stateless and thread-safe.
    /// </summary>
    public static class PoseFrameDecoder
    {
        public const int LayoutVersion = 1;
        public const int FrameSize = 104;
        public const byte FlagValid = 0x01;

        private const int RotationsOffset = 2;
        private const int PelvisOffset = RotationsOffset + 4 * SmplSkeleton.JointCount; // 98
        private const double InvSqrt2 = 0.70710678118654752440;
        private const double Sqrt2 = 1.41421356237309504880; // = 2 / sqrt2

        /// <summary>Decodes a whole 104-byte blob.</summary>
        public static PoseFrame Decode(byte[] data)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            return Decode(data, 0, data.Length);
        }

        /// <summary>Decodes <paramref name="count"/> bytes starting at <paramref name="offset"/>.</summary>
        public static PoseFrame Decode(byte[] data, int offset, int count)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            if (offset < 0 || count < 0 || offset > data.Length - count)
            {
                throw new ArgumentOutOfRangeException("offset",
                    "offset " + offset + " / count " + count + " outside a buffer of " + data.Length + " bytes");
            }
            if (count != FrameSize)
            {
                throw new PoseFormatException(
                    "pose frame must be exactly " + FrameSize + " bytes (layout v" + LayoutVersion + "), got " + count);
            }
            int version = data[offset];
            if (version != LayoutVersion)
            {
                throw new PoseFormatException(
                    "unsupported pose layout version " + version + " (this decoder understands v" + LayoutVersion + ")");
            }
            // Bits other than bit 0 are reserved (0 in v1) and ignored here, so a sender that
            // sets a future informational bit does not break older clients.
            byte flags = data[offset + 1];

            var rotations = new Quat[SmplSkeleton.JointCount];
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                int p = offset + RotationsOffset + 4 * j;
                uint word = (uint)data[p]
                    | ((uint)data[p + 1] << 8)
                    | ((uint)data[p + 2] << 16)
                    | ((uint)data[p + 3] << 24);
                rotations[j] = DecodeSmallestThree(word);
            }

            int q = offset + PelvisOffset;
            var pelvis = new Vec3(
                ReadInt16(data, q) / 1000.0,
                ReadInt16(data, q + 2) / 1000.0,
                ReadInt16(data, q + 4) / 1000.0);
            return new PoseFrame(version, flags, rotations, pelvis);
        }

        /// <summary>Decodes one packed "smallest three" quaternion word.</summary>
        public static Quat DecodeSmallestThree(uint word)
        {
            int largest = (int)(word >> 30);
            double a = Dequantise((word >> 20) & 0x3FF);
            double b = Dequantise((word >> 10) & 0x3FF);
            double c = Dequantise(word & 0x3FF);
            double dropped = Math.Sqrt(Math.Max(0.0, 1.0 - (a * a + b * b + c * c)));
            switch (largest)
            {
                case 0: return new Quat(dropped, a, b, c);
                case 1: return new Quat(a, dropped, b, c);
                case 2: return new Quat(a, b, dropped, c);
                default: return new Quat(a, b, c, dropped);
            }
        }

        private static double Dequantise(uint code)
        {
            return code / 1023.0 * Sqrt2 - InvSqrt2;
        }

        private static short ReadInt16(byte[] data, int p)
        {
            return (short)(data[p] | (data[p + 1] << 8));
        }
    }
}
