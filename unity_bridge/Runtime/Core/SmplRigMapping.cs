using System;
using System.Collections.Generic;
using System.Text;

namespace CoachBridge.Core
{
    /// <summary>
    /// Table from SMPL joint index to a bone name in the avatar rig. A null/empty entry means the
    /// rig has no bone for that joint; its rotation is then folded into the nearest mapped
    /// descendant (see <see cref="SmplRig"/>). Start from a preset and override entries.
    /// </summary>
    public sealed class SmplRigMapping
    {
        private readonly string[] bones = new string[SmplSkeleton.JointCount];

        /// <summary>An empty table (no joint mapped).</summary>
        public SmplRigMapping() { }

        /// <summary>Bone name for a joint, or null when unmapped.</summary>
        public string this[int joint]
        {
            get { return bones[joint]; }
            set { bones[joint] = string.IsNullOrEmpty(value) ? null : value; }
        }

        public bool IsMapped(int joint) { return bones[joint] != null; }

        /// <summary>Sets (or with null clears) the bone of a joint given by SMPL name.</summary>
        public SmplRigMapping Set(string smplJointName, string boneName)
        {
            int j = SmplSkeleton.IndexOf(smplJointName);
            if (j < 0)
            {
                throw new ArgumentException("unknown SMPL joint name '" + smplJointName + "'", "smplJointName");
            }
            this[j] = boneName;
            return this;
        }

        public SmplRigMapping Set(int joint, string boneName)
        {
            this[joint] = boneName;
            return this;
        }

        public SmplRigMapping Clone()
        {
            var m = new SmplRigMapping();
            Array.Copy(bones, m.bones, bones.Length);
            return m;
        }

        /// <summary>
        /// Applies overrides written one per line as <c>smpl_joint = BoneName</c>; an empty right
        /// side unmaps the joint; blank lines and lines starting with '#' are ignored.
        /// </summary>
        public SmplRigMapping ApplyOverrides(string text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return this;
            }
            string[] lines = text.Split(new[] { '\n' }, StringSplitOptions.None);
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                int eq = line.IndexOf('=');
                if (eq < 0)
                {
                    throw new FormatException("rig mapping line " + (i + 1) + ": expected 'smpl_joint = BoneName', got '" + line + "'");
                }
                Set(line.Substring(0, eq).Trim(), line.Substring(eq + 1).Trim());
            }
            return this;
        }

        /// <summary>The table as override text (round-trips through <see cref="ApplyOverrides"/>).</summary>
        public override string ToString()
        {
            var sb = new StringBuilder();
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                sb.Append(SmplSkeleton.Name(j)).Append(" = ").Append(bones[j] ?? "").Append('\n');
            }
            return sb.ToString();
        }

        /// <summary>Joints whose bone name is not in <paramref name="availableBones"/>.</summary>
        public List<int> MissingBones(ICollection<string> availableBones)
        {
            var missing = new List<int>();
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                if (bones[j] != null && !availableBones.Contains(bones[j]))
                {
                    missing.Add(j);
                }
            }
            return missing;
        }

        /// <summary>Bones named exactly like the SMPL joints ("pelvis", "left_hip", ...).</summary>
        public static SmplRigMapping SmplNames()
        {
            var m = new SmplRigMapping();
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                m[j] = SmplSkeleton.Name(j);
            }
            return m;
        }

        /// <summary>
        /// Naming used by the SMPL Unity/FBX rigs: prefix + Pelvis, L_Hip, R_Hip, Spine1, ...
        /// (prefix "m_avg_", "f_avg_" or "" depending on the export).
        /// </summary>
        public static SmplRigMapping SmplFbx(string prefix)
        {
            string[] n =
            {
                "Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle", "R_Ankle",
                "Spine3", "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder",
                "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist", "L_Hand", "R_Hand",
            };
            var m = new SmplRigMapping();
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                m[j] = (prefix ?? "") + n[j];
            }
            return m;
        }

        /// <summary>
        /// Mixamo-style rig (prefix usually "mixamorig:"). It has three spine bones like SMPL;
        /// SMPL's hand joints (22, 23) have no single Mixamo counterpart and stay unmapped.
        /// The rig must be posed as a T-pose at rest (see README) for rotations to line up.
        /// </summary>
        public static SmplRigMapping Mixamo(string prefix)
        {
            string[] n =
            {
                "Hips", "LeftUpLeg", "RightUpLeg", "Spine", "LeftLeg", "RightLeg", "Spine1", "LeftFoot",
                "RightFoot", "Spine2", "LeftToeBase", "RightToeBase", "Neck", "LeftShoulder",
                "RightShoulder", "Head", "LeftArm", "RightArm", "LeftForeArm", "RightForeArm",
                "LeftHand", "RightHand", null, null,
            };
            var m = new SmplRigMapping();
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                m[j] = n[j] == null ? null : (prefix ?? "") + n[j];
            }
            return m;
        }
    }
}
