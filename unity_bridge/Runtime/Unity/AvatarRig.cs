using System.Collections.Generic;
using CoachBridge.Core;
using UnityEngine;

namespace CoachBridge.Unity
{
    /// <summary>Bone naming preset of an avatar; edit further with overrides.</summary>
    public enum RigPreset
    {
        /// <summary>Bones named like the SMPL joints: pelvis, left_hip, ... (the backend's avatar .glb).</summary>
        SmplJointNames,
        /// <summary>SMPL Unity/FBX naming: m_avg_Pelvis, m_avg_L_Hip, ...</summary>
        SmplFbxMale,
        /// <summary>SMPL Unity/FBX naming: f_avg_Pelvis, f_avg_L_Hip, ...</summary>
        SmplFbxFemale,
        /// <summary>Mixamo: mixamorig:Hips, mixamorig:LeftUpLeg, ...</summary>
        Mixamo,
        /// <summary>Start from an empty table: only the overrides apply.</summary>
        OverridesOnly,
    }

    /// <summary>
    /// The bones of one avatar and how a pose moves them: shared by the live avatar
    /// (<see cref="CoachPoseSubscriber"/>) and the reference ghost (<see cref="ReferenceAvatar"/>).
    ///
    /// <see cref="Bind"/> finds the mapped bones below the avatar root and takes their current
    /// orientation as the rest pose, so the avatar must stand in a T-pose (the SMPL zero pose)
    /// then. <see cref="Apply"/> solves the pose with <see cref="SmplRig"/> (which converts to
    /// Unity's left-handed frame) and writes world rotations, parents first.
    /// </summary>
    public sealed class AvatarRig
    {
        private readonly Transform avatarRoot;
        private readonly Object logContext;
        private readonly Transform[] bones = new Transform[SmplSkeleton.JointCount];
        private readonly RigPose rigPose = new RigPose();
        private SmplRig rig;
        private Vector3 restPelvisModelPosition;
        private bool haveRootMotionOrigin;
        private Vector3 rootMotionOrigin;
        private bool visible = true;

        /// <param name="avatarRoot">Root of the avatar; bones are searched below it by name.</param>
        /// <param name="logContext">The component that owns the rig (named in warnings).</param>
        public AvatarRig(Transform avatarRoot, Object logContext)
        {
            this.avatarRoot = avatarRoot;
            this.logContext = logContext;
            MissingBones = new List<string>();
        }

        /// <summary>True once <see cref="Bind"/> found at least one bone.</summary>
        public bool IsBound { get; private set; }

        /// <summary>Bones that the mapping names but the avatar lacks (filled by <see cref="Bind"/>).</summary>
        public List<string> MissingBones { get; private set; }

        /// <summary>Renderers that <see cref="SetVisible"/> shows and hides.</summary>
        public Renderer[] Renderers = new Renderer[0];

        /// <summary>The bone-name table of a preset with the overrides applied.</summary>
        public static SmplRigMapping Mapping(RigPreset preset, string overrides)
        {
            SmplRigMapping mapping;
            switch (preset)
            {
                case RigPreset.SmplFbxMale: mapping = SmplRigMapping.SmplFbx("m_avg_"); break;
                case RigPreset.SmplFbxFemale: mapping = SmplRigMapping.SmplFbx("f_avg_"); break;
                case RigPreset.Mixamo: mapping = SmplRigMapping.Mixamo("mixamorig:"); break;
                case RigPreset.OverridesOnly: mapping = new SmplRigMapping(); break;
                default: mapping = SmplRigMapping.SmplNames(); break;
            }
            return mapping.ApplyOverrides(overrides);
        }

        /// <summary>
        /// Finds the mapped bones and captures the rest pose; returns whether any bone was found.
        /// Call again after replacing the avatar (or while it is still being loaded).
        /// </summary>
        public bool Bind(SmplRigMapping mapping, bool avatarFacesPositiveZ)
        {
            mapping = mapping.Clone();
            var byName = new Dictionary<string, Transform>();
            foreach (Transform t in avatarRoot.GetComponentsInChildren<Transform>(true))
            {
                if (!byName.ContainsKey(t.name)) byName.Add(t.name, t);
            }
            MissingBones = new List<string>();
            var rest = new Quat[SmplSkeleton.JointCount];
            Quaternion rootInv = Quaternion.Inverse(avatarRoot.rotation);
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                Transform bone = null;
                if (mapping.IsMapped(j) && !byName.TryGetValue(mapping[j], out bone))
                {
                    MissingBones.Add(mapping[j]);
                    mapping[j] = null; // fold its rotation into the children instead
                }
                bones[j] = bone;
                rest[j] = bone != null ? ToCore(rootInv * bone.rotation) : Quat.Identity;
            }
            if (bones[0] != null)
            {
                restPelvisModelPosition = avatarRoot.InverseTransformPoint(bones[0].position);
            }
            rig = new SmplRig(mapping, rest, avatarFacesPositiveZ ? SmplRig.FacingPositiveZ : Quat.Identity);
            IsBound = false;
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                IsBound |= bones[j] != null;
            }
            if (IsBound && MissingBones.Count > 0)
            {
                Debug.LogWarning(logContext.GetType().Name + ": bones not found under " + avatarRoot.name + ": "
                    + string.Join(", ", MissingBones.ToArray()), logContext);
            }
            return IsBound;
        }

        /// <summary>Poses the bones (the sample must have a pose). Root motion is relative to the first pose applied.</summary>
        public void Apply(PoseSample sample, bool applyRootMotion)
        {
            rig.Solve(sample.Rotations, sample.PelvisPosition, true, rigPose);
            Quaternion root = avatarRoot.rotation;
            // SMPL order lists parents before children, so setting world rotations in this order is
            // correct whatever intermediate (unmapped) transforms the rig has.
            for (int j = 0; j < SmplSkeleton.JointCount; j++)
            {
                if (bones[j] != null)
                {
                    bones[j].rotation = root * ToUnity(rigPose.ModelRotations[j]);
                }
            }
            if (applyRootMotion && bones[0] != null)
            {
                Vector3 p = ToUnity(rigPose.PelvisPosition);
                if (!haveRootMotionOrigin)
                {
                    rootMotionOrigin = p;
                    haveRootMotionOrigin = true;
                }
                bones[0].position = avatarRoot.TransformPoint(restPelvisModelPosition + (p - rootMotionOrigin));
            }
        }

        /// <summary>The next applied pose becomes the root-motion origin (new session or recording).</summary>
        public void ResetRootMotion()
        {
            haveRootMotionOrigin = false;
        }

        public void SetVisible(bool show)
        {
            if (show == visible) return;
            visible = show;
            foreach (Renderer r in Renderers)
            {
                if (r != null) r.enabled = show;
            }
        }

        // Core math is double precision and already in Unity's (left-handed) frame after SmplRig;
        // these only change the type.
        private static Quaternion ToUnity(Quat q) { return new Quaternion((float)q.X, (float)q.Y, (float)q.Z, (float)q.W); }
        private static Vector3 ToUnity(Vec3 v) { return new Vector3((float)v.X, (float)v.Y, (float)v.Z); }
        private static Quat ToCore(Quaternion q) { return new Quat(q.x, q.y, q.z, q.w); }
    }
}
