using System;
using System.Collections.Generic;
using System.IO;

namespace CoachBridge.Core
{
    /// <summary>The bytes are not a coach recording, or are corrupted before their tail.</summary>
    public sealed class RecordingFormatException : FormatException
    {
        public RecordingFormatException(string message) : base(message) { }
    }

    /// <summary>A SessionInfo record of a recording and the first frame recorded after it.</summary>
    public sealed class RecordedSessionInfo
    {
        public RecordedSessionInfo(int firstFrame, SessionInfoMessage info)
        {
            FirstFrame = firstFrame;
            Info = info;
        }

        /// <summary>Index of the first frame after the record (the frame count if none follows).</summary>
        public int FirstFrame { get; private set; }

        public SessionInfoMessage Info { get; private set; }
    }

    /// <summary>
    /// A session recording (<c>.coachrec</c>) as <c>coach_backend.recorder</c> writes it, read whole:
    /// the reference motion a second avatar replays next to the live one.
    ///
    /// Format (coach_backend/recorder/log.py): record*, record = varint(length) + a serialized
    /// coach.v1.StreamMessage (protobuf's delimited framing). First a SessionInfo, then PoseFrames,
    /// then, if the session ended cleanly, one StreamEnd. A later SessionInfo of the same session
    /// updates it from that point on (the settled body shape); <see cref="Infos"/> keeps each with
    /// its position, as Python's <c>read_recording</c> does.
    ///
    /// Same rules as the Python reader: a torn tail (the writer died mid-record, or a crash left
    /// zeros after the last synced record) is ignored and its size reported in
    /// <see cref="TornTailBytes"/>; anything else malformed throws
    /// <see cref="RecordingFormatException"/>. Tested against files the Python recorder wrote
    /// (Tests/vectors/reference_recording_v1.*).
    /// </summary>
    public sealed class CoachRecording
    {
        /// <summary>Real records are under 1 KiB; a bigger length prefix means corruption.</summary>
        public const int MaxRecordBytes = 1 << 16;

        /// <summary>Betas of a full body shape (a SessionInfo with fewer changes no frame's shape).</summary>
        public const int ShapeCoefficients = 10;

        private readonly List<PoseFrameMessage> frames = new List<PoseFrameMessage>();
        private readonly List<PoseFrame> poses = new List<PoseFrame>();
        private readonly List<double> frameTimes = new List<double>();
        private readonly List<RecordedSessionInfo> infos = new List<RecordedSessionInfo>();
        // Per info record: the info its frames are drawn with (itself, or the one before it
        // when it carries no full shape), as coach_backend.recorder.player.ReplayTimeline.
        private readonly List<SessionInfoMessage> shapeInfos = new List<SessionInfoMessage>();

        private CoachRecording(string source)
        {
            Source = source;
        }

        /// <summary>Where the bytes came from (a path or a name), for messages.</summary>
        public string Source { get; private set; }

        /// <summary>The latest SessionInfo of the recording.</summary>
        public SessionInfoMessage Info { get; private set; }

        /// <summary>
        /// The first SessionInfo (frame 0), then each later one with the first frame recorded after
        /// it; of several in a row only the last (the same entries as Python's <c>Recording.infos</c>).
        /// </summary>
        public IReadOnlyList<RecordedSessionInfo> Infos { get { return infos; } }

        /// <summary>The PoseFrame records in file order.</summary>
        public IReadOnlyList<PoseFrameMessage> Frames { get { return frames; } }

        /// <summary>Decoded poses of <see cref="Frames"/> (wire frame).</summary>
        public IReadOnlyList<PoseFrame> Poses { get { return poses; } }

        /// <summary>Seconds since the first frame's capture time, per frame.</summary>
        public IReadOnlyList<double> FrameTimes { get { return frameTimes; } }

        /// <summary>Capture time of the last frame after the first, in seconds (0 with fewer than two frames).</summary>
        public double Duration { get { return frameTimes.Count > 0 ? frameTimes[frameTimes.Count - 1] : 0.0; } }

        /// <summary>The StreamEnd record; null when the writer never closed the session.</summary>
        public StreamEndMessage End { get; private set; }

        /// <summary>Size of the ignored torn tail in bytes (0: none).</summary>
        public int TornTailBytes { get; private set; }

        /// <summary>Closed cleanly with a StreamEnd and nothing torn.</summary>
        public bool Complete { get { return End != null && TornTailBytes == 0; } }

        /// <summary>A full set of finite betas (what a viewer can draw a body with).</summary>
        public static bool HasShape(SessionInfoMessage info)
        {
            if (info.Betas.Count != ShapeCoefficients) return false;
            foreach (float b in info.Betas)
            {
                if (float.IsNaN(b) || float.IsInfinity(b)) return false;
            }
            return true;
        }

        /// <summary>
        /// The SessionInfo frame <paramref name="frameIndex"/> is drawn with: the one recorded last
        /// before it; records without a full shape change nothing (as the Python replays do).
        /// </summary>
        public SessionInfoMessage InfoAt(int frameIndex)
        {
            int k = 0;
            while (k + 1 < infos.Count && infos[k + 1].FirstFrame <= frameIndex)
            {
                k++;
            }
            return shapeInfos[k];
        }

        /// <summary>Reads a recording file (recordings are small: about 4 KB per second at 30 fps).</summary>
        public static CoachRecording ReadFile(string path)
        {
            return Read(File.ReadAllBytes(path), path);
        }

        /// <summary>Reads a whole recording from memory (e.g. a TextAsset's bytes).</summary>
        public static CoachRecording Read(byte[] data, string source)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            var recording = new CoachRecording(string.IsNullOrEmpty(source) ? "recording" : source);
            recording.Parse(data);
            return recording;
        }

        private void Parse(byte[] data)
        {
            var cursor = new RecordCursor(data, Source);
            StreamMessage first;
            try
            {
                first = cursor.Next();
            }
            catch (RecordingFormatException e)
            {
                throw new RecordingFormatException(Source + ": not a coach recording (" + e.Message + ")");
            }
            if (first == null || first.Kind != StreamMessageKind.Info || string.IsNullOrEmpty(first.Info.SessionId))
            {
                throw new RecordingFormatException(Source + ": not a coach recording (no SessionInfo record at the start)");
            }
            if (first.Info.LayoutVersion != PoseFrameDecoder.LayoutVersion)
            {
                throw new RecordingFormatException(
                    Source + ": unsupported pose layout version " + first.Info.LayoutVersion);
            }
            Info = first.Info;
            AddInfo(first.Info);

            // A later SessionInfo takes effect at the next frame; of several in a row, the last
            // (the same entries as Python's read_recording).
            SessionInfoMessage pendingInfo = null;
            long firstCaptureUs = 0;
            StreamMessage msg;
            while ((msg = cursor.Next()) != null)
            {
                if (End != null)
                {
                    throw new RecordingFormatException(Source + ": record after StreamEnd at byte " + cursor.RecordStart);
                }
                switch (msg.Kind)
                {
                    case StreamMessageKind.Frame:
                        PoseFrame pose;
                        try
                        {
                            pose = PoseFrameDecoder.Decode(msg.Frame.Pose);
                        }
                        catch (PoseFormatException e)
                        {
                            throw new RecordingFormatException(
                                Source + ": bad pose blob at byte " + cursor.RecordStart + ": " + e.Message);
                        }
                        if (pendingInfo != null)
                        {
                            AddInfo(pendingInfo);
                            pendingInfo = null;
                        }
                        if (frames.Count == 0)
                        {
                            firstCaptureUs = msg.Frame.CaptureTimeUs;
                        }
                        frames.Add(msg.Frame);
                        poses.Add(pose);
                        // Relative to the first frame, so seconds keep full double precision.
                        frameTimes.Add((msg.Frame.CaptureTimeUs - firstCaptureUs) * 1e-6);
                        break;
                    case StreamMessageKind.End:
                        End = msg.End;
                        break;
                    default: // Info (Next never returns an empty message)
                        if (msg.Info.SessionId != Info.SessionId || msg.Info.LayoutVersion != Info.LayoutVersion)
                        {
                            throw new RecordingFormatException(
                                Source + ": SessionInfo of another session or layout at byte " + cursor.RecordStart);
                        }
                        Info = msg.Info;
                        pendingInfo = msg.Info;
                        break;
                }
            }
            if (pendingInfo != null)
            {
                AddInfo(pendingInfo);
            }
            TornTailBytes = cursor.TornTailBytes;
        }

        private void AddInfo(SessionInfoMessage info)
        {
            bool keepsShape = shapeInfos.Count > 0 && !HasShape(info);
            infos.Add(new RecordedSessionInfo(frames.Count, info));
            shapeInfos.Add(keepsShape ? shapeInfos[shapeInfos.Count - 1] : info);
        }

        /// <summary>Steps through the delimited records; knows torn tails from corruption.</summary>
        private sealed class RecordCursor
        {
            private readonly byte[] data;
            private readonly string source;
            private int pos;

            public RecordCursor(byte[] data, string source)
            {
                this.data = data;
                this.source = source;
            }

            /// <summary>Byte offset of the record last returned.</summary>
            public int RecordStart { get; private set; }

            public int TornTailBytes { get; private set; }

            /// <summary>The next record, or null at the end or at a torn tail.</summary>
            public StreamMessage Next()
            {
                int start = pos;
                if (start >= data.Length)
                {
                    return null;
                }
                ulong length = 0;
                int p = start;
                bool terminated = false;
                for (int shift = 0; shift < 64 && !terminated; shift += 7)
                {
                    if (p >= data.Length)
                    {
                        return Torn(start); // end of data inside the length prefix
                    }
                    byte b = data[p++];
                    length |= (ulong)(b & 0x7F) << shift;
                    terminated = b < 0x80;
                }
                if (!terminated)
                {
                    return Corrupt(start, "length prefix longer than 10 bytes");
                }
                if (length > MaxRecordBytes)
                {
                    return Corrupt(start, "record length " + length + " exceeds " + MaxRecordBytes);
                }
                int count = (int)length;
                if (count > data.Length - p)
                {
                    return Torn(start); // end of data inside the record
                }
                var record = new byte[count];
                Array.Copy(data, p, record, 0, count);
                StreamMessage msg;
                try
                {
                    msg = CoachProto.ParseStreamMessage(record);
                }
                catch (FormatException)
                {
                    return Corrupt(start, "record is not a StreamMessage");
                }
                if (msg.Kind == StreamMessageKind.None)
                {
                    return Corrupt(start, "empty record");
                }
                RecordStart = start;
                pos = p + count;
                return msg;
            }

            private StreamMessage Torn(int start)
            {
                TornTailBytes = data.Length - start;
                pos = data.Length;
                return null;
            }

            private StreamMessage Corrupt(int start, string why)
            {
                // A crash on a filesystem with delayed allocation can leave zeros after the last
                // synced record: that is a torn tail too, not corruption.
                for (int i = start; i < data.Length; i++)
                {
                    if (data[i] != 0)
                    {
                        throw new RecordingFormatException(source + ": corrupt at byte " + start + ": " + why);
                    }
                }
                return Torn(start);
            }
        }
    }
}
