using System;

namespace CoachBridge.Core
{
    /// <summary>SMPL-24 joint order and parents (docs/CONTRIBUTING-internal.md).</summary>
    public static class SmplSkeleton
    {
        public const int JointCount = 24;

        private static readonly string[] names =
        {
            "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
            "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
            "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
            "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
        };

        private static readonly int[] parents =
        {
            -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
        };

        /// <summary>Name of joint <paramref name="index"/> (e.g. 0 -> "pelvis").</summary>
        public static string Name(int index) { return names[index]; }

        /// <summary>Parent joint index, -1 for the pelvis (root).</summary>
        public static int Parent(int index) { return parents[index]; }

        /// <summary>Copy of the 24 names in order.</summary>
        public static string[] Names { get { return (string[])names.Clone(); } }

        /// <summary>Copy of the 24 parent indices in order.</summary>
        public static int[] Parents { get { return (int[])parents.Clone(); } }

        /// <summary>Index of a joint name (case-insensitive), or -1.</summary>
        public static int IndexOf(string name)
        {
            for (int i = 0; i < JointCount; i++)
            {
                if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>
        /// Composes local rotations along the kinematic tree into global (model-space) rotations.
        /// Works in either frame, as long as input and output are in the same one.
        /// </summary>
        public static void LocalToGlobal(Quat[] local, Quat[] globalOut)
        {
            for (int j = 0; j < JointCount; j++)
            {
                int p = parents[j];
                globalOut[j] = p < 0 ? local[j] : globalOut[p] * local[j];
            }
        }
    }
}
