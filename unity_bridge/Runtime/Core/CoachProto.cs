using System;
using System.Collections.Generic;
using System.Text;

namespace CoachBridge.Core
{
    /// <summary>Which member of the <c>StreamMessage.kind</c> oneof was set.</summary>
    public enum StreamMessageKind
    {
        None = 0,
        Info = 1,
        Frame = 2,
        End = 3,
    }

    /// <summary>coach.v1.SessionInfo (protos/coach.proto).</summary>
    public sealed class SessionInfoMessage
    {
        public string SessionId = "";
        public string BodyModel = "";
        public readonly List<float> Betas = new List<float>();
        public float Fps;
        /// <summary>1 = COORDINATE_FRAME_GL_VIEWER (the wire frame this bridge converts from).</summary>
        public int CoordinateFrame;
        public readonly List<string> JointNames = new List<string>();
        public uint LayoutVersion;
        public long StartedTimeUs;
        /// <summary>1 live, 2 ended, 3 recorded.</summary>
        public int State;
    }

    /// <summary>coach.v1.PoseFrame: one compact pose plus its stream metadata.</summary>
    public sealed class PoseFrameMessage
    {
        public ulong Sequence;
        /// <summary>Unix epoch microseconds of the source video frame.</summary>
        public long CaptureTimeUs;
        public float Confidence;
        public uint Flags;
        /// <summary>104-byte compact pose (decode with <see cref="PoseFrameDecoder"/>).</summary>
        public byte[] Pose = new byte[0];
    }

    /// <summary>coach.v1.StreamEnd: the last message of a subscription.</summary>
    public sealed class StreamEndMessage
    {
        public string Reason = "";
        public ulong FramesSent;
        public ulong FramesDropped;
    }

    /// <summary>coach.v1.StreamMessage (oneof info / frame / end).</summary>
    public sealed class StreamMessage
    {
        public StreamMessageKind Kind;
        public SessionInfoMessage Info;
        public PoseFrameMessage Frame;
        public StreamEndMessage End;
    }

    /// <summary>
    /// Hand-written protobuf (proto3) encoder/decoder for the few coach.v1 messages the headset
    /// needs, so the Unity client needs neither protoc/Grpc.Tools code generation nor the
    /// Google.Protobuf runtime. Unknown fields are skipped, so additive changes to
    /// protos/coach.proto stay compatible; field numbers here must follow that file.
    /// Tested against bytes serialized by the Python generated code (Tests/vectors).
    /// </summary>
    public static class CoachProto
    {
        public const string ServiceName = "coach.v1.PoseStream";
        public const string SubscribeMethod = "Subscribe";

        private const int WireVarint = 0;
        private const int WireFixed64 = 1;
        private const int WireLen = 2;
        private const int WireFixed32 = 5;

        /// <summary>Serializes coach.v1.SubscribeRequest { string session_id = 1; }.</summary>
        public static byte[] EncodeSubscribeRequest(string sessionId)
        {
            byte[] id = Encoding.UTF8.GetBytes(sessionId ?? "");
            if (id.Length == 0)
            {
                return new byte[0]; // proto3: default values are not written
            }
            var buf = new List<byte>(id.Length + 6);
            buf.Add((1 << 3) | WireLen);
            WriteVarint(buf, (ulong)id.Length);
            buf.AddRange(id);
            return buf.ToArray();
        }

        /// <summary>Parses a serialized coach.v1.SubscribeRequest (used by tests and tools).</summary>
        public static string DecodeSubscribeRequest(byte[] data)
        {
            string id = "";
            var r = new Reader(data, 0, data.Length);
            while (!r.End)
            {
                int field, wire;
                r.Tag(out field, out wire);
                if (field == 1 && wire == WireLen)
                {
                    id = r.String();
                }
                else
                {
                    r.Skip(wire);
                }
            }
            return id;
        }

        /// <summary>Parses a serialized coach.v1.StreamMessage. Throws <see cref="FormatException"/> on malformed input.</summary>
        public static StreamMessage ParseStreamMessage(byte[] data)
        {
            if (data == null)
            {
                throw new ArgumentNullException("data");
            }
            var msg = new StreamMessage();
            var r = new Reader(data, 0, data.Length);
            while (!r.End)
            {
                int field, wire;
                r.Tag(out field, out wire);
                if (wire != WireLen || field < 1 || field > 3)
                {
                    r.Skip(wire);
                    continue;
                }
                int len = r.Length();
                var sub = new Reader(data, r.Pos, len);
                r.Pos += len;
                // oneof: the last member on the wire wins.
                msg.Info = null;
                msg.Frame = null;
                msg.End = null;
                msg.Kind = (StreamMessageKind)field;
                switch (field)
                {
                    case 1: msg.Info = ParseSessionInfo(sub); break;
                    case 2: msg.Frame = ParsePoseFrame(sub); break;
                    default: msg.End = ParseStreamEnd(sub); break;
                }
            }
            return msg;
        }

        private static SessionInfoMessage ParseSessionInfo(Reader r)
        {
            var m = new SessionInfoMessage();
            while (!r.End)
            {
                int field, wire;
                r.Tag(out field, out wire);
                if (field == 1 && wire == WireLen) m.SessionId = r.String();
                else if (field == 2 && wire == WireLen) m.BodyModel = r.String();
                else if (field == 3 && wire == WireLen)
                {
                    int len = r.Length(); // packed floats
                    if (len % 4 != 0)
                    {
                        throw new FormatException("packed float field has " + len + " bytes");
                    }
                    int end = r.Pos + len;
                    while (r.Pos < end) m.Betas.Add(r.Float());
                }
                else if (field == 3 && wire == WireFixed32) m.Betas.Add(r.Float());
                else if (field == 4 && wire == WireFixed32) m.Fps = r.Float();
                else if (field == 5 && wire == WireVarint) m.CoordinateFrame = (int)r.Varint();
                else if (field == 6 && wire == WireLen) m.JointNames.Add(r.String());
                else if (field == 7 && wire == WireVarint) m.LayoutVersion = (uint)r.Varint();
                else if (field == 8 && wire == WireVarint) m.StartedTimeUs = (long)r.Varint();
                else if (field == 9 && wire == WireVarint) m.State = (int)r.Varint();
                else r.Skip(wire);
            }
            return m;
        }

        private static PoseFrameMessage ParsePoseFrame(Reader r)
        {
            var m = new PoseFrameMessage();
            while (!r.End)
            {
                int field, wire;
                r.Tag(out field, out wire);
                if (field == 1 && wire == WireVarint) m.Sequence = r.Varint();
                else if (field == 2 && wire == WireVarint) m.CaptureTimeUs = (long)r.Varint();
                else if (field == 3 && wire == WireFixed32) m.Confidence = r.Float();
                else if (field == 4 && wire == WireVarint) m.Flags = (uint)r.Varint();
                else if (field == 5 && wire == WireLen) m.Pose = r.Bytes();
                else r.Skip(wire);
            }
            return m;
        }

        private static StreamEndMessage ParseStreamEnd(Reader r)
        {
            var m = new StreamEndMessage();
            while (!r.End)
            {
                int field, wire;
                r.Tag(out field, out wire);
                if (field == 1 && wire == WireLen) m.Reason = r.String();
                else if (field == 2 && wire == WireVarint) m.FramesSent = r.Varint();
                else if (field == 3 && wire == WireVarint) m.FramesDropped = r.Varint();
                else r.Skip(wire);
            }
            return m;
        }

        private static void WriteVarint(List<byte> buf, ulong v)
        {
            while (v >= 0x80)
            {
                buf.Add((byte)(v | 0x80));
                v >>= 7;
            }
            buf.Add((byte)v);
        }

        /// <summary>Bounds-checked cursor over a slice of a byte array.</summary>
        private sealed class Reader
        {
            private readonly byte[] data;
            private readonly int end;
            public int Pos;

            public Reader(byte[] data, int start, int count)
            {
                if (start < 0 || count < 0 || start > data.Length - count)
                {
                    throw new FormatException("protobuf field runs past the end of the message");
                }
                this.data = data;
                Pos = start;
                end = start + count;
            }

            public bool End { get { return Pos >= end; } }

            public void Tag(out int field, out int wire)
            {
                ulong tag = Varint();
                field = (int)(tag >> 3);
                wire = (int)(tag & 7);
                if (field == 0)
                {
                    throw new FormatException("protobuf field number 0");
                }
            }

            public ulong Varint()
            {
                ulong result = 0;
                for (int shift = 0; shift < 64; shift += 7)
                {
                    Need(1);
                    byte b = data[Pos++];
                    result |= (ulong)(b & 0x7F) << shift;
                    if (b < 0x80)
                    {
                        return result;
                    }
                }
                throw new FormatException("protobuf varint longer than 10 bytes");
            }

            public int Length()
            {
                ulong len = Varint();
                if (len > (ulong)(end - Pos))
                {
                    throw new FormatException("protobuf length " + len + " runs past the end of the message");
                }
                return (int)len;
            }

            public float Float()
            {
                Need(4);
                var b = new byte[4];
                Array.Copy(data, Pos, b, 0, 4);
                Pos += 4;
                if (!BitConverter.IsLittleEndian)
                {
                    Array.Reverse(b);
                }
                return BitConverter.ToSingle(b, 0);
            }

            public byte[] Bytes()
            {
                int len = Length();
                var b = new byte[len];
                Array.Copy(data, Pos, b, 0, len);
                Pos += len;
                return b;
            }

            public string String()
            {
                int len = Length();
                string s = Encoding.UTF8.GetString(data, Pos, len);
                Pos += len;
                return s;
            }

            public void Skip(int wire)
            {
                switch (wire)
                {
                    case WireVarint: Varint(); break;
                    case WireFixed64: Need(8); Pos += 8; break;
                    case WireLen: Pos += Length(); break;
                    case WireFixed32: Need(4); Pos += 4; break;
                    default: throw new FormatException("unsupported protobuf wire type " + wire);
                }
            }

            private void Need(int n)
            {
                if (Pos + n > end)
                {
                    throw new FormatException("truncated protobuf message");
                }
            }
        }
    }
}
