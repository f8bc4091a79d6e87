// Test probe: the Unity bridge's hand-written CoachProto against the backend's gRPC-Web framing.
// Compiled with mcs together with unity_bridge/Runtime/Core/CoachProto.cs by
// tests/test_grpc_web_csharp.py.
//   request SESSION OUT      write a binary gRPC-Web Subscribe request body to OUT
//   parse FILE binary|text   print one line per frame of a gRPC-Web response body
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using CoachBridge.Core;

public static class GrpcWebProbe
{
    public static int Main(string[] args)
    {
        if (args[0] == "request")
        {
            byte[] msg = CoachProto.EncodeSubscribeRequest(args[1]);
            File.WriteAllBytes(args[2], Frame(0, msg));
            return 0;
        }
        byte[] body = File.ReadAllBytes(args[1]);
        if (args[2] == "text")
        {
            // Padded base64 chunks back to back: decode 4 characters at a time.
            string s = Encoding.ASCII.GetString(body);
            var bytes = new List<byte>();
            for (int i = 0; i < s.Length; i += 4)
            {
                bytes.AddRange(Convert.FromBase64String(s.Substring(i, 4)));
            }
            body = bytes.ToArray();
        }
        int pos = 0;
        while (pos < body.Length)
        {
            byte flag = body[pos];
            int len = (body[pos + 1] << 24) | (body[pos + 2] << 16) | (body[pos + 3] << 8) | body[pos + 4];
            byte[] payload = new byte[len];
            Array.Copy(body, pos + 5, payload, 0, len);
            pos += 5 + len;
            if ((flag & 0x80) != 0)
            {
                Console.WriteLine("trailer " + Encoding.ASCII.GetString(payload).Replace("\r\n", ";"));
                continue;
            }
            StreamMessage m = CoachProto.ParseStreamMessage(payload);
            switch (m.Kind)
            {
                case StreamMessageKind.Info:
                    Console.WriteLine("info " + m.Info.SessionId + " " + m.Info.JointNames.Count);
                    break;
                case StreamMessageKind.Frame:
                    Console.WriteLine("frame " + m.Frame.Sequence + " " + m.Frame.Pose.Length);
                    break;
                case StreamMessageKind.End:
                    Console.WriteLine("end " + m.End.Reason + " " + m.End.FramesSent);
                    break;
                default:
                    Console.WriteLine("none");
                    break;
            }
        }
        return 0;
    }

    private static byte[] Frame(byte flag, byte[] payload)
    {
        var f = new byte[5 + payload.Length];
        f[0] = flag;
        f[1] = (byte)(payload.Length >> 24);
        f[2] = (byte)(payload.Length >> 16);
        f[3] = (byte)(payload.Length >> 8);
        f[4] = (byte)payload.Length;
        Array.Copy(payload, 0, f, 5, payload.Length);
        return f;
    }
}
