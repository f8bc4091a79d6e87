using System;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using CoachBridge.Core;

namespace CoachBridge.Tests
{
    [DataContract]
    public sealed class VectorCase
    {
        [DataMember(Name = "name")] public string Name;
        [DataMember(Name = "group")] public string Group;
        [DataMember(Name = "sequence", IsRequired = false)] public long? Sequence;
        [DataMember(Name = "capture_time_s", IsRequired = false)] public double? CaptureTimeS;
        [DataMember(Name = "hex")] public string Hex;
        [DataMember(Name = "valid")] public bool Valid;
        [DataMember(Name = "pelvis_m")] public double[] PelvisM;
        [DataMember(Name = "rotvecs")] public double[][] Rotvecs;
        [DataMember(Name = "quats_xyzw")] public double[][] Quats;
        [DataMember(Name = "unity_pelvis_m")] public double[] UnityPelvisM;
        [DataMember(Name = "unity_quats_xyzw")] public double[][] UnityQuats;
        [DataMember(Name = "unity_global_quats_xyzw")] public double[][] UnityGlobalQuats;

        public byte[] Bytes { get { return TestVectors.FromHex(Hex); } }
        public override string ToString() { return Name; }
    }

    [DataContract]
    public sealed class BadBlob
    {
        [DataMember(Name = "name")] public string Name;
        [DataMember(Name = "hex")] public string Hex;
        [DataMember(Name = "error")] public string Error;
        public override string ToString() { return Name; }
    }

    [DataContract]
    public sealed class InfoVector
    {
        [DataMember(Name = "session_id")] public string SessionId;
        [DataMember(Name = "body_model")] public string BodyModel;
        [DataMember(Name = "betas")] public float[] Betas;
        [DataMember(Name = "fps")] public float Fps;
        [DataMember(Name = "coordinate_frame")] public int CoordinateFrame;
        [DataMember(Name = "joint_names")] public string[] JointNames;
        [DataMember(Name = "layout_version")] public uint LayoutVersion;
        [DataMember(Name = "started_time_us")] public long StartedTimeUs;
        [DataMember(Name = "state")] public int State;
    }

    [DataContract]
    public class FrameVector
    {
        [DataMember(Name = "sequence")] public ulong Sequence;
        [DataMember(Name = "capture_time_us")] public long CaptureTimeUs;
        [DataMember(Name = "confidence")] public float Confidence;
        [DataMember(Name = "flags")] public uint Flags;
        [DataMember(Name = "pose_hex")] public string PoseHex;
    }

    [DataContract]
    public sealed class EndVector
    {
        [DataMember(Name = "reason")] public string Reason;
        [DataMember(Name = "frames_sent")] public ulong FramesSent;
        [DataMember(Name = "frames_dropped")] public ulong FramesDropped;
    }

    [DataContract]
    public sealed class StreamVector
    {
        [DataMember(Name = "name")] public string Name;
        [DataMember(Name = "kind")] public string Kind;
        [DataMember(Name = "hex")] public string Hex;
        [DataMember(Name = "info", IsRequired = false)] public InfoVector Info;
        [DataMember(Name = "frame", IsRequired = false)] public FrameVector Frame;
        [DataMember(Name = "end", IsRequired = false)] public EndVector End;
        [DataMember(Name = "session_id", IsRequired = false)] public string SessionId;
        public override string ToString() { return Name; }
    }

    [DataContract]
    public sealed class VectorFile
    {
        [DataMember(Name = "generator")] public string Generator;
        [DataMember(Name = "layout_version")] public int LayoutVersion;
        [DataMember(Name = "frame_bytes")] public int FrameBytes;
        [DataMember(Name = "tolerance")] public double Tolerance;
        [DataMember(Name = "joint_names")] public string[] JointNames;
        [DataMember(Name = "joint_parents")] public int[] JointParents;
        [DataMember(Name = "cases")] public VectorCase[] Cases;
        [DataMember(Name = "bad_blobs")] public BadBlob[] BadBlobs;
        [DataMember(Name = "stream_messages")] public StreamVector[] StreamMessages;
    }

    /// <summary>Loads Tests/vectors/pose_vectors_v1.json (written by the Python codec).</summary>
    public static class TestVectors
    {
        public const string FileName = "pose_vectors_v1.json";
        public const string EnvVar = "COACH_BRIDGE_VECTORS";
        private static VectorFile cached;

        public static VectorFile Load()
        {
            if (cached == null)
            {
                string path = Locate(FileName);
                using (var stream = File.OpenRead(path))
                {
                    var serializer = new DataContractJsonSerializer(typeof(VectorFile));
                    cached = (VectorFile)serializer.ReadObject(stream);
                }
                if (cached.Cases == null || cached.Cases.Length == 0)
                {
                    throw new InvalidDataException("no cases in " + path);
                }
            }
            return cached;
        }

        public static VectorCase Case(string name)
        {
            foreach (var c in Load().Cases)
            {
                if (c.Name == name)
                {
                    return c;
                }
            }
            throw new ArgumentException("no vector case named " + name);
        }

        /// <summary>
        /// A file of Tests/vectors: next to $COACH_BRIDGE_VECTORS (the pose vectors' path) when set,
        /// else searched upwards from the working and base directories.
        /// </summary>
        public static string Locate(string fileName)
        {
            string env = Environment.GetEnvironmentVariable(EnvVar);
            if (!string.IsNullOrEmpty(env))
            {
                if (!File.Exists(env))
                {
                    throw new FileNotFoundException(EnvVar + " points to a missing file", env);
                }
                string sibling = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(env)), fileName);
                if (File.Exists(sibling))
                {
                    return sibling;
                }
                throw new FileNotFoundException(fileName + " not found next to " + EnvVar, sibling);
            }
            string[] relative =
            {
                Path.Combine("vectors", fileName),
                Path.Combine(Path.Combine("Tests", "vectors"), fileName),
                Path.Combine(Path.Combine(Path.Combine("unity_bridge", "Tests"), "vectors"), fileName),
                Path.Combine(Path.Combine(Path.Combine(Path.Combine("Packages", "com.coach.unitybridge"), "Tests"), "vectors"), fileName),
            };
            foreach (string start in new[] { Directory.GetCurrentDirectory(), AppDomain.CurrentDomain.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                {
                    foreach (string rel in relative)
                    {
                        string candidate = Path.Combine(dir.FullName, rel);
                        if (File.Exists(candidate))
                        {
                            return candidate;
                        }
                    }
                }
            }
            throw new FileNotFoundException(
                "test vector file not found; set " + EnvVar + " or regenerate it (see Tests/vectors)", fileName);
        }

        public static byte[] FromHex(string hex)
        {
            if (hex.Length % 2 != 0)
            {
                throw new FormatException("odd hex length");
            }
            var bytes = new byte[hex.Length / 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
            }
            return bytes;
        }

        public static Quat Q(double[] a) { return new Quat(a[0], a[1], a[2], a[3]); }
        public static Vec3 V(double[] a) { return new Vec3(a[0], a[1], a[2]); }
    }
}
