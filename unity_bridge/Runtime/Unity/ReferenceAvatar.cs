using System;
using System.IO;
using CoachBridge.Core;
using UnityEngine;

namespace CoachBridge.Unity
{
    /// <summary>
    /// The reference motion (a coach's recorded session, <c>.coachrec</c>) on a second avatar: a
    /// semi-transparent ghost next to, or over, the live avatar of <see cref="CoachPoseSubscriber"/>.
    ///
    /// The client loads the recording itself (from a TextAsset or a file), reads it with
    /// <see cref="CoachRecording"/> and plays it with <see cref="ReferencePlayer"/> on the attempt's
    /// timeline: by default seconds since the component was enabled (or <see cref="Restart"/>);
    /// with a live avatar assigned, that avatar's playout time, so both move on the same clock.
    /// Offset, speed and loop map the attempt time onto the reference; an alignment computed by the
    /// backend can take over through <c>Player.SetTimeMap</c>.
    ///
    /// The ghost avatar must stand in a T-pose when bound, like the live one. For transparency give
    /// it a transparent material (Ghost Material); the ghost colour, alpha included,
    /// is set on its renderers through a property block (<c>_BaseColor</c> and <c>_Color</c>).
    /// </summary>
    [DisallowMultipleComponent]
    public sealed class ReferenceAvatar : MonoBehaviour
    {
        [Header("Reference recording")]
        [Tooltip("The recording as a TextAsset: rename the .coachrec to .bytes so that Unity imports it as one.")]
        [SerializeField] private TextAsset recordingAsset;
        [Tooltip("Or a .coachrec file, read when no TextAsset is set; a relative path is under StreamingAssets.")]
        [SerializeField] private string recordingPath = "";

        [Header("Avatar")]
        [Tooltip("Root of the ghost avatar (a second instance of the avatar); bones are searched below it by name.")]
        [SerializeField] private Transform avatarRoot;
        [SerializeField] private RigPreset rigPreset = RigPreset.SmplJointNames;
        [Tooltip("Avatar faces +z in its model space (Unity convention; glTFast imports). Untick for avatars facing -z.")]
        [SerializeField] private bool avatarFacesPositiveZ = true;
        [Tooltip("One 'smpl_joint = BoneName' per line; an empty right side unmaps the joint.")]
        [TextArea(3, 10)]
        [SerializeField] private string mappingOverrides = "";
        [Tooltip("Move the pelvis with the recorded translation, relative to where it was in the first frame shown.")]
        [SerializeField] private bool applyRootMotion = true;

        [Header("Ghost")]
        [Tooltip("Replaces every material of the ghost (use a transparent one); empty: keep the avatar's own.")]
        [SerializeField] private Material ghostMaterial;
        [Tooltip("Colour and opacity of the ghost (set as _BaseColor and _Color).")]
        [SerializeField] private Color ghostColor = new Color(0.35f, 0.8f, 1f, 0.35f);

        [Header("Timing")]
        [Tooltip("Follow this live avatar's playout time; empty: seconds since enable / Restart().")]
        [SerializeField] private CoachPoseSubscriber liveAvatar;
        [Tooltip("Reference second shown at attempt time 0 (negative: hold the first frame that long).")]
        [SerializeField] private float offsetSeconds;
        [Tooltip("Reference seconds per attempt second.")]
        [Range(0.1f, 4f)] [SerializeField] private float speed = 1f;
        [SerializeField] private bool loop = true;

        private static readonly int ColorId = Shader.PropertyToID("_Color");
        private static readonly int BaseColorId = Shader.PropertyToID("_BaseColor");
        private readonly PoseSample sample = new PoseSample();
        private AvatarRig avatar;
        private float nextBindAttempt;
        private float startTime;

        /// <summary>The loaded recording (null before a successful load).</summary>
        public CoachRecording Recording { get; private set; }

        /// <summary>Plays <see cref="Recording"/>; set a time map on it to follow an alignment.</summary>
        public ReferencePlayer Player { get; private set; }

        /// <summary>Why the last load failed ("" after a successful one).</summary>
        public string LastError { get; private set; }

        /// <summary>The attempt time the ghost showed last (seconds).</summary>
        public double AttemptTime { get; private set; }

        public SampleState LastSampleState { get { return sample.State; } }

        /// <summary>Loads a recording from memory (e.g. downloaded); returns whether it can be played.</summary>
        public bool Load(byte[] data, string source)
        {
            try
            {
                CoachRecording recording = CoachRecording.Read(data, source);
                var player = new ReferencePlayer(recording);
                Recording = recording;
                Player = player;
                LastError = "";
                if (avatar != null) avatar.ResetRootMotion();
                if (recording.TornTailBytes > 0)
                {
                    Debug.LogWarning("ReferenceAvatar: " + source + " ends in a torn record ("
                        + recording.TornTailBytes + " bytes ignored)", this);
                }
                return true;
            }
            catch (Exception e)
            {
                // Not a recording, corrupt mid-file, or no frames: keep what was loaded before.
                if (!(e is FormatException || e is ArgumentException)) throw;
                LastError = e.Message;
                Debug.LogError("ReferenceAvatar: " + e.Message, this);
                return false;
            }
        }

        /// <summary>Loads a .coachrec file; a relative path is taken under StreamingAssets.</summary>
        public bool LoadFile(string path)
        {
            string full = Path.IsPathRooted(path) ? path : Path.Combine(Application.streamingAssetsPath, path);
            byte[] data;
            try
            {
                data = File.ReadAllBytes(full);
            }
            catch (Exception e)
            {
                if (!(e is IOException || e is UnauthorizedAccessException)) throw;
                LastError = full + ": " + e.Message;
                Debug.LogError("ReferenceAvatar: " + LastError, this);
                return false;
            }
            return Load(data, full);
        }

        /// <summary>Attempt time 0 is now (for the local clock; a followed live avatar sets its own).</summary>
        public void Restart()
        {
            startTime = Time.time;
            AttemptTime = 0;
        }

        private void Awake()
        {
            LastError = "";
            if (avatarRoot == null) avatarRoot = transform;
            BindRig();
            if (recordingAsset != null) Load(recordingAsset.bytes, recordingAsset.name);
            else if (!string.IsNullOrEmpty(recordingPath)) LoadFile(recordingPath);
        }

        private void OnEnable()
        {
            Restart();
        }

        /// <summary>Finds the ghost's bones and makes it a ghost; call after replacing the avatar.</summary>
        public bool BindRig()
        {
            if (avatar == null) avatar = new AvatarRig(avatarRoot, this);
            if (!avatar.Bind(AvatarRig.Mapping(rigPreset, mappingOverrides), avatarFacesPositiveZ)) return false;
            avatar.Renderers = avatarRoot.GetComponentsInChildren<Renderer>(true);
            var block = new MaterialPropertyBlock();
            foreach (Renderer r in avatar.Renderers)
            {
                if (ghostMaterial != null)
                {
                    var materials = new Material[r.sharedMaterials.Length];
                    for (int i = 0; i < materials.Length; i++) materials[i] = ghostMaterial;
                    r.sharedMaterials = materials;
                }
                r.GetPropertyBlock(block);
                block.SetColor(BaseColorId, ghostColor); // URP / HDRP Lit
                block.SetColor(ColorId, ghostColor);     // Built-in Standard and most others
                r.SetPropertyBlock(block);
            }
            return true;
        }

        private void Update()
        {
            if (Player == null) return;
            if (!avatar.IsBound)
            {
                if (Time.unscaledTime < nextBindAttempt) return;
                nextBindAttempt = Time.unscaledTime + 1f; // the avatar may still be loading
                if (!BindRig()) return;
            }
            if (liveAvatar == null) AttemptTime = Time.time - startTime;
            else if (liveAvatar.HasPlayoutTime) AttemptTime = liveAvatar.PlayoutTime;
            // (a live avatar without a stream: the ghost holds where it was)

            // Read every frame so that inspector changes act at once.
            Player.Offset = offsetSeconds;
            Player.Speed = Mathf.Max(speed, 0.01f);
            Player.Loop = loop;
            Player.Sample(AttemptTime, sample);
            avatar.SetVisible(sample.HasPose);
            if (sample.HasPose) avatar.Apply(sample, applyRootMotion);
        }
    }
}
