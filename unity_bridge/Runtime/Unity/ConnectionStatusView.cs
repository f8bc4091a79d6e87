using System;
using System.Globalization;
using CoachBridge.Core;
using UnityEngine;
using UnityEngine.Events;

namespace CoachBridge.Unity
{
    /// <summary>
    /// Shows the state of a <see cref="CoachPoseSubscriber"/>: a coloured indicator (any Renderer,
    /// e.g. a small sphere) and a one-line text on a <see cref="TextMesh"/> and/or any text component
    /// bound to <see cref="onStatusText"/> (TextMeshPro, UI Text). Refreshes a few times per second.
    /// </summary>
    public sealed class ConnectionStatusView : MonoBehaviour
    {
        [Serializable]
        public sealed class StringEvent : UnityEvent<string> { }

        [SerializeField] private CoachPoseSubscriber subscriber;
        [SerializeField] private TextMesh textMesh;
        [SerializeField] private Renderer indicator;
        [SerializeField] private bool showStatistics = true;
        [Range(0.05f, 2f)] [SerializeField] private float refreshSeconds = 0.25f;
        [SerializeField] private Color okColor = new Color(0.2f, 0.85f, 0.3f);
        [SerializeField] private Color warnColor = new Color(1f, 0.75f, 0.1f);
        [SerializeField] private Color errorColor = new Color(0.9f, 0.2f, 0.2f);
        [SerializeField] private Color idleColor = new Color(0.5f, 0.5f, 0.5f);
        [Tooltip("Receives the status line (bind TextMeshPro's text setter here, for instance).")]
        public StringEvent onStatusText = new StringEvent();

        private static readonly int ColorId = Shader.PropertyToID("_Color");
        private static readonly int BaseColorId = Shader.PropertyToID("_BaseColor");
        private MaterialPropertyBlock block;
        private float nextRefresh;
        private string lastText = "";

        private void Awake()
        {
            block = new MaterialPropertyBlock();
            if (subscriber == null) subscriber = FindObjectOfType<CoachPoseSubscriber>();
        }

        private void Update()
        {
            if (Time.unscaledTime < nextRefresh) return;
            nextRefresh = Time.unscaledTime + refreshSeconds;

            Color color;
            string text = Describe(out color);
            if (text != lastText)
            {
                lastText = text;
                if (textMesh != null) textMesh.text = text;
                onStatusText.Invoke(text);
            }
            if (indicator != null)
            {
                indicator.GetPropertyBlock(block);
                block.SetColor(ColorId, color);
                block.SetColor(BaseColorId, color);
                indicator.SetPropertyBlock(block);
            }
        }

        private string Describe(out Color color)
        {
            if (subscriber == null)
            {
                color = errorColor;
                return "No CoachPoseSubscriber in scene";
            }
            string line;
            switch (subscriber.State)
            {
                case ConnectionState.Idle: color = idleColor; line = "Not connected"; break;
                case ConnectionState.Connecting: color = warnColor; line = "Connecting..."; break;
                case ConnectionState.Reconnecting: color = warnColor; line = "Reconnecting (" + subscriber.LastError + ")"; break;
                case ConnectionState.Ended: color = idleColor; line = "Session ended"; break;
                case ConnectionState.Unauthorized: color = errorColor; line = "Token rejected - check the session token"; break;
                case ConnectionState.Failed: color = errorColor; line = "Cannot subscribe: " + subscriber.LastError; break;
                default:
                    line = DescribeStreaming(out color);
                    break;
            }
            if (showStatistics && subscriber.Buffer != null && subscriber.State != ConnectionState.Idle)
            {
                JitterBuffer b = subscriber.Buffer;
                line += string.Format(CultureInfo.InvariantCulture,
                    "\nframes {0}  lost {1}  late {2}  dup {3}  decode err {4}",
                    subscriber.FramesReceived, b.Lost, b.Late, b.Duplicates, subscriber.DecodeErrors);
            }
            return line;
        }

        private string DescribeStreaming(out Color color)
        {
            string session = subscriber.SessionInfo != null ? subscriber.SessionInfo.SessionId : "?";
            switch (subscriber.LastSampleState)
            {
                case SampleState.Interpolated:
                case SampleState.Extrapolated:
                    color = okColor;
                    return "Live: " + session;
                case SampleState.Held:
                    color = warnColor;
                    return "Live: " + session + " (waiting for frames)";
                case SampleState.Stale:
                    color = warnColor;
                    return "Live: " + session + " (stream stalled)";
                case SampleState.NoPerson:
                    color = warnColor;
                    return "Live: " + session + " (no person in view)";
                default:
                    color = warnColor;
                    return "Live: " + session + " (buffering)";
            }
        }
    }
}
