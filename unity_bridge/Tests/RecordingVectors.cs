using System;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;

namespace CoachBridge.Tests
{
    [DataContract]
    public sealed class RecordedInfoVector
    {
        [DataMember(Name = "first_frame")] public int FirstFrame;
        [DataMember(Name = "betas")] public float[] Betas;
        [DataMember(Name = "has_shape")] public bool HasShape;
    }

    [DataContract]
    public sealed class RecordedFrameVector : FrameVector // without pose_hex: the pose is decoded
    {
        [DataMember(Name = "valid")] public bool Valid;
        [DataMember(Name = "pelvis_m")] public double[] PelvisM;
        [DataMember(Name = "rotvecs")] public double[][] Rotvecs;
        [DataMember(Name = "shape_betas")] public float[] ShapeBetas;
    }

    [DataContract]
    public sealed class VariantExpectation
    {
        [DataMember(Name = "error")] public bool Error;
        /// <summary>The error says the bytes are not a recording at all (rather than a damaged one).</summary>
        [DataMember(Name = "not_a_recording", IsRequired = false)] public bool NotARecording;
        [DataMember(Name = "frames", IsRequired = false)] public int Frames;
        [DataMember(Name = "infos", IsRequired = false)] public int Infos;
        [DataMember(Name = "torn_tail_bytes", IsRequired = false)] public int TornTailBytes;
        [DataMember(Name = "has_end", IsRequired = false)] public bool HasEnd;
        [DataMember(Name = "complete", IsRequired = false)] public bool Complete;
    }

    /// <summary>A damaged copy of the recording and what Python's read_recording made of it.</summary>
    [DataContract]
    public sealed class RecordingVariant
    {
        [DataMember(Name = "name")] public string Name;
        [DataMember(Name = "keep_bytes", IsRequired = false)] public int? KeepBytes;
        [DataMember(Name = "patch_at", IsRequired = false)] public int? PatchAt;
        [DataMember(Name = "patch_hex", IsRequired = false)] public string PatchHex;
        [DataMember(Name = "skip_bytes", IsRequired = false)] public int SkipBytes;
        [DataMember(Name = "append_hex", IsRequired = false)] public string AppendHex;
        [DataMember(Name = "append_zeros", IsRequired = false)] public int AppendZeros;
        [DataMember(Name = "expect")] public VariantExpectation Expect;

        /// <summary>Same steps as apply_variant in coach_backend/recorder/make_test_recording.py.</summary>
        public byte[] Apply(byte[] original)
        {
            int keep = KeepBytes ?? original.Length;
            var bytes = new byte[keep];
            Array.Copy(original, bytes, keep);
            if (PatchAt.HasValue)
            {
                byte[] patch = TestVectors.FromHex(PatchHex);
                Array.Copy(patch, 0, bytes, PatchAt.Value, patch.Length);
            }
            byte[] append = TestVectors.FromHex(AppendHex ?? "");
            var result = new byte[keep - SkipBytes + append.Length + AppendZeros];
            Array.Copy(bytes, SkipBytes, result, 0, keep - SkipBytes);
            Array.Copy(append, 0, result, keep - SkipBytes, append.Length);
            return result; // the zeros are already there
        }

        public override string ToString() { return Name; }
    }

    [DataContract]
    public sealed class RecordingVectorFile
    {
        [DataMember(Name = "generator")] public string Generator;
        [DataMember(Name = "recording")] public string Recording;
        [DataMember(Name = "size_bytes")] public int SizeBytes;
        [DataMember(Name = "tolerance")] public double Tolerance;
        [DataMember(Name = "session")] public InfoVector Session; // without betas: see Infos
        [DataMember(Name = "infos")] public RecordedInfoVector[] Infos;
        [DataMember(Name = "frames")] public RecordedFrameVector[] Frames;
        [DataMember(Name = "end")] public EndVector End;
        [DataMember(Name = "variants")] public RecordingVariant[] Variants;
    }

    /// <summary>
    /// Tests/vectors/reference_recording_v1.coachrec, written by the Python recorder, and
    /// reference_recording_v1.json, what the Python reader reads from it
    /// (<c>python -m coach_backend.recorder.make_test_recording</c>).
    /// </summary>
    public static class RecordingVectors
    {
        public const string ExpectedFileName = "reference_recording_v1.json";
        private static RecordingVectorFile cached;
        private static byte[] recording;

        public static RecordingVectorFile Expected
        {
            get
            {
                if (cached == null)
                {
                    using (var stream = File.OpenRead(TestVectors.Locate(ExpectedFileName)))
                    {
                        var serializer = new DataContractJsonSerializer(typeof(RecordingVectorFile));
                        cached = (RecordingVectorFile)serializer.ReadObject(stream);
                    }
                }
                return cached;
            }
        }

        public static string RecordingPath { get { return TestVectors.Locate(Expected.Recording); } }

        /// <summary>The recording's bytes (a fresh copy each time: tests may damage it).</summary>
        public static byte[] RecordingBytes
        {
            get
            {
                if (recording == null)
                {
                    recording = File.ReadAllBytes(RecordingPath);
                }
                return (byte[])recording.Clone();
            }
        }
    }
}
