using System;
using System.Collections.Generic;
using CoachBridge.Core;
using UnityEngine;

namespace CoachBridge.Unity
{
    /// <summary>
    /// Subscribes to a coach pose stream and drives an avatar's bones every frame.
    ///
    /// Main thread: drains the network queue, decodes the 104-byte poses
    /// (<see cref="PoseFrameDecoder"/>), feeds the <see cref="JitterBuffer"/>, samples it at
    /// (now - playout delay), maps SMPL joints onto the rig (<see cref="SmplRig"/>, which also
    /// converts to Unity's left-handed frame) and writes bone rotations.
    ///
    /// The avatar must stand in a T-pose (SMPL zero pose: arms horizontal) when the rig is bound
    /// (first Update in which its bones exist): that pose is taken as the rest pose of the rig.
    /// A body that faces the video camera faces along the avatar root's forward axis, so turn the
    /// avatar root towards the viewer to see what the camera saw.
    /// </summary>
    [DisallowMultipleComponent]
    public sealed class CoachPoseSubscriber : MonoBehaviour
    {
        [Header("Server")]
        [Tooltip("gRPC-Web endpoint of coach_backend, e.g. https://192.168.1.20:8443")]
        [SerializeField] private string serverUrl = "";
        [Tooltip("Session to subscribe to (coach.v1.SubscribeRequest.session_id).")]
        [SerializeField] private string sessionId = "";
        [Tooltip("Session token (sent as 'authorization: Bearer <token>'). Prefer setting it at runtime via Configure().")]
        [SerializeField] private string sessionToken = "";
        [Tooltip("Use gRPC-Web text mode (base64) instead of binary; only needed behind proxies that alter binary bodies.")]
        [SerializeField] private bool grpcWebTextMode;
        [SerializeField] private bool connectOnEnable = true;

        [Header("Avatar")]
        [Tooltip("Root of the avatar (the glTFast-instantiated model); bones are searched below it by name.")]
        [SerializeField] private Transform avatarRoot;
        [SerializeField] private RigPreset rigPreset = RigPreset.SmplJointNames;
        [Tooltip("Avatar faces +z in its model space (Unity convention; glTFast imports of glTF avatars). Untick for avatars facing -z.")]
        [SerializeField] private bool avatarFacesPositiveZ = true;
        [Tooltip("One 'smpl_joint = BoneName' per line; an empty right side unmaps the joint.")]
        [TextArea(3, 10)]
        [SerializeField] private string mappingOverrides = "";
        [Tooltip("Move the pelvis with the streamed translation, relative to where it was in the first frame.")]
        [SerializeField] private bool applyRootMotion = true;
        [Tooltip("Renderers hidden while no person is tracked or the stream is stale (empty: all renderers under the avatar).")]
        [SerializeField] private Renderer[] hideWhenNoPose = new Renderer[0];
        [SerializeField] private bool hideAvatarWithoutPose = true;

        [Header("Playout")]
        [Tooltip("Seconds the playout runs behind the newest frames; covers network jitter.")]
        [Range(0f, 0.5f)] [SerializeField] private float playoutDelay = 0.1f;
        [Range(0f, 0.2f)] [SerializeField] private float maxExtrapolation = 0.05f;
        [Range(0.05f, 5f)] [SerializeField] private float holdLimit = 0.5f;
        [Range(0.05f, 2f)] [SerializeField] private float maxInterpolationGap = 0.5f;

        private PoseStreamClient client;
        private JitterBuffer jitter;
        private readonly ClockOffsetEstimator clock = new ClockOffsetEstimator(10.0);
        private readonly PoseSample sample = new PoseSample();
        private AvatarRig avatar;
        private float nextBindAttempt;
        private long captureBaseUs;
        private bool haveCaptureBase;

        /// <summary>Last SessionInfo received (null before the first).</summary>
        public SessionInfoMessage SessionInfo { get; private set; }

        public ConnectionState State { get { return client != null ? client.State : ConnectionState.Idle; } }
        public string LastError { get { return client != null ? client.LastError : ""; } }
        public SampleState LastSampleState { get { return sample.State; } }
        public JitterBuffer Buffer { get { return jitter; } }
        public long DecodeErrors { get; private set; }
        public long FramesReceived { get; private set; }
        public long DroppedOnQueue { get { return client != null ? client.DroppedOnQueue : 0; } }
        /// <summary>Bones that the mapping names but the avatar lacks (filled in Awake).</summary>
        public List<string> MissingBones { get { return avatar != null ? avatar.MissingBones : new List<string>(); } }

        /// <summary>
        /// The capture time the avatar shows now: seconds since the first frame of this
        /// subscription, on the sender's clock (what a <see cref="ReferenceAvatar"/> can follow).
        /// Meaningful while <see cref="HasPlayoutTime"/>.
        /// </summary>
        public double PlayoutTime { get { return sample.TargetTime; } }

        /// <summary>False until frames arrive, and again after a resubscription until they do.</summary>
        public bool HasPlayoutTime { get { return clock.HasEstimate && sample.State != SampleState.Empty; } }

        /// <summary>Sets connection parameters (e.g. from a QR code or login flow) and reconnects if running.</summary>
        public void Configure(string url, string session, string token)
        {
            serverUrl = url;
            sessionId = session;
            sessionToken = token;
            if (client != null)
            {
                Disconnect();
                Connect();
            }
        }

        public void Connect()
        {
            if (client != null) return;
            if (string.IsNullOrEmpty(serverUrl))
            {
                Debug.LogWarning("CoachPoseSubscriber: no server URL set", this);
                return;
            }
            jitter.Reset();
            clock.Reset();
            haveCaptureBase = false;
            avatar.ResetRootMotion();
            client = new PoseStreamClient(new PoseStreamClientOptions
            {
                ServerUrl = serverUrl,
                SessionId = sessionId,
                Token = sessionToken,
                UseTextMode = grpcWebTextMode,
            });
            client.Start();
        }

        public void Disconnect()
        {
            if (client == null) return;
            client.Dispose();
            client = null;
        }

        private void Awake()
        {
            jitter = new JitterBuffer(new JitterBufferSettings
            {
                Delay = playoutDelay,
                MaxExtrapolation = maxExtrapolation,
                HoldLimit = Mathf.Max(holdLimit, maxExtrapolation),
                MaxInterpolationGap = maxInterpolationGap,
            });
            if (avatarRoot == null) avatarRoot = transform;
            BindRig();
        }

        /// <summary>
        /// Finds the mapped bones and captures the rest pose; returns whether any bone was found.
        /// Runs in Awake and, while no bone is found (avatar loaded at runtime by glTFast), again
        /// once per second. Call it after replacing the avatar.
        /// </summary>
        public bool BindRig()
        {
            if (avatar == null) avatar = new AvatarRig(avatarRoot, this);
            bool bound = avatar.Bind(AvatarRig.Mapping(rigPreset, mappingOverrides), avatarFacesPositiveZ);
            if (bound && (hideWhenNoPose == null || hideWhenNoPose.Length == 0))
            {
                hideWhenNoPose = avatarRoot.GetComponentsInChildren<Renderer>(true);
            }
            avatar.Renderers = hideWhenNoPose ?? new Renderer[0];
            return bound;
        }

        private void OnEnable()
        {
            if (connectOnEnable) Connect();
        }

        private void OnDisable()
        {
            Disconnect();
        }

        private void OnApplicationPause(bool paused)
        {
            // HoloLens suspends apps: drop the call and resubscribe on resume (no backlog is sent).
            if (!isActiveAndEnabled || !connectOnEnable) return;
            if (paused) Disconnect();
            else Connect();
        }

        private void Update()
        {
            DrainNetwork();
            if (!avatar.IsBound)
            {
                if (Time.unscaledTime < nextBindAttempt) return;
                nextBindAttempt = Time.unscaledTime + 1f;
                if (!BindRig()) return;
            }
            if (!clock.HasEstimate)
            {
                avatar.SetVisible(!hideAvatarWithoutPose);
                return;
            }
            jitter.Sample(clock.ToCaptureTime(PoseStreamClient.LocalTime), sample);
            if (!sample.HasPose)
            {
                avatar.SetVisible(!hideAvatarWithoutPose);
                return;
            }
            avatar.SetVisible(!(hideAvatarWithoutPose && sample.State == SampleState.Stale));
            avatar.Apply(sample, applyRootMotion);
        }

        private void DrainNetwork()
        {
            if (client == null) return;
            ReceivedMessage rm;
            while (client.TryDequeue(out rm))
            {
                StreamMessage m = rm.Message;
                switch (m.Kind)
                {
                    case StreamMessageKind.Info:
                        OnSessionInfo(m.Info, rm.StartsCall);
                        break;
                    case StreamMessageKind.Frame:
                        OnFrame(m.Frame, rm.ArrivalTime);
                        break;
                }
            }
        }

        private void OnSessionInfo(SessionInfoMessage info, bool startsCall)
        {
            SessionInfo = info;  // mid-stream: the server announces the settled body shape (Betas)
            if (!startsCall) return;
            // A (re)subscription starts a new sequence/time context.
            jitter.Reset();
            clock.Reset();
            haveCaptureBase = false;
            if (info.LayoutVersion != PoseFrameDecoder.LayoutVersion)
            {
                Debug.LogError("CoachPoseSubscriber: server sends pose layout v" + info.LayoutVersion
                    + ", this client decodes v" + PoseFrameDecoder.LayoutVersion, this);
            }
            if (info.CoordinateFrame != 1)
            {
                Debug.LogWarning("CoachPoseSubscriber: unexpected coordinate frame " + info.CoordinateFrame
                    + " (expected GL_VIEWER = 1)", this);
            }
        }

        private void OnFrame(PoseFrameMessage f, double arrival)
        {
            FramesReceived++;
            PoseFrame pose;
            try
            {
                pose = PoseFrameDecoder.Decode(f.Pose);
            }
            catch (PoseFormatException e)
            {
                DecodeErrors++;
                if (DecodeErrors == 1) Debug.LogError("CoachPoseSubscriber: " + e.Message, this);
                return;
            }
            if (!haveCaptureBase)
            {
                // Seconds relative to the first frame keep full double precision.
                captureBaseUs = f.CaptureTimeUs;
                haveCaptureBase = true;
            }
            double capture = (f.CaptureTimeUs - captureBaseUs) * 1e-6;
            clock.Observe(arrival, capture);
            jitter.Push((long)f.Sequence, capture, pose);
        }
    }
}
