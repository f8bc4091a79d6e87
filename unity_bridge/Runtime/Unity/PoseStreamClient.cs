// Transport: gRPC-Web (application/grpc-web, binary) over HTTP/1.1 with grpc-dotnet's managed
// client (Grpc.Net.Client + Grpc.Net.Client.Web). Why:
//  - Grpc.Core (the C-core based client) ships no native library for UWP/ARM64, so it cannot run on
//    HoloLens 2.
//  - Grpc.Net.Client alone needs an HTTP/2-capable HttpMessageHandler; the HttpClientHandler that
//    Unity 2021 LTS (Mono/IL2CPP, .NET Standard 2.1) provides speaks HTTP/1.1 only.
//  - GrpcWebHandler turns each call into a plain HTTP/1.1 POST whose response body streams the
//    gRPC frames (server streaming works; client/bidi streaming would not, and we need neither).
//    It is fully managed, so it builds under IL2CPP for UWP ARM64 without native plugins.
// The server must accept gRPC-Web for coach.v1.PoseStream (a gRPC-Web endpoint in the backend or a
// proxy such as Envoy's grpc_web filter in front of the gRPC server).
//
// Messages are (de)serialized by CoachBridge.Core.CoachProto (hand-written, tested against bytes
// from the Python generated code), so no protoc/Grpc.Tools step and no Google.Protobuf runtime.
using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using CoachBridge.Core;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace CoachBridge.Unity
{
    /// <summary>Connection state shown to the user.</summary>
    public enum ConnectionState
    {
        Idle,
        Connecting,
        /// <summary>Call open, SessionInfo received, frames flowing.</summary>
        Streaming,
        /// <summary>Lost the connection; retrying after a back-off.</summary>
        Reconnecting,
        /// <summary>The server ended the session (StreamEnd).</summary>
        Ended,
        /// <summary>Token rejected (UNAUTHENTICATED / PERMISSION_DENIED): no retry until reconfigured.</summary>
        Unauthorized,
        /// <summary>Session unknown (NOT_FOUND) or another permanent error: no retry.</summary>
        Failed,
    }

    /// <summary>One received message plus its local arrival time (seconds, <see cref="PoseStreamClient.LocalTime"/>).</summary>
    public struct ReceivedMessage
    {
        public StreamMessage Message;
        public double ArrivalTime;
        /// <summary>First message of a (re)subscription. A later SessionInfo in the same call is
        /// an update of the session (e.g. its body shape), not a new start.</summary>
        public bool StartsCall;
    }

    /// <summary>Settings of <see cref="PoseStreamClient"/>.</summary>
    public sealed class PoseStreamClientOptions
    {
        /// <summary>Base address of the gRPC-Web endpoint, e.g. "https://coach.example.org:8443".</summary>
        public string ServerUrl = "";
        public string SessionId = "";
        /// <summary>Session token sent as "authorization: Bearer &lt;token&gt;". Never logged.</summary>
        public string Token = "";
        /// <summary>GrpcWeb (binary, default) or GrpcWebText (base64; for proxies that mangle binary bodies).</summary>
        public bool UseTextMode;
        public double MinRetrySeconds = 1.0;
        public double MaxRetrySeconds = 10.0;
        /// <summary>Maximum queued, not yet consumed messages; older frames are dropped beyond it.</summary>
        public int MaxQueuedMessages = 256;
    }

    /// <summary>
    /// Subscribes to coach.v1.PoseStream/Subscribe on a background task and queues the messages for
    /// the Unity main thread (<see cref="TryDequeue"/>). Reconnects with exponential back-off.
    /// No UnityEngine dependency, so it can also be used from plain .NET tools.
    /// </summary>
    public sealed class PoseStreamClient : IDisposable
    {
        private static readonly Method<byte[], StreamMessage> SubscribeMethod = new Method<byte[], StreamMessage>(
            MethodType.ServerStreaming,
            CoachProto.ServiceName,
            CoachProto.SubscribeMethod,
            Marshallers.Create<byte[]>(b => b, b => b),
            Marshallers.Create<StreamMessage>(
                m => { throw new NotSupportedException("the client never sends StreamMessage"); },
                CoachProto.ParseStreamMessage));

        private static readonly Stopwatch Clock = Stopwatch.StartNew();

        private readonly PoseStreamClientOptions options;
        private readonly ConcurrentQueue<ReceivedMessage> queue = new ConcurrentQueue<ReceivedMessage>();
        private CancellationTokenSource cts;
        private Task worker;
        private int state = (int)ConnectionState.Idle;
        private long droppedOnQueue;
        private volatile string lastError = "";

        public PoseStreamClient(PoseStreamClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            if (string.IsNullOrEmpty(options.ServerUrl)) throw new ArgumentException("ServerUrl is empty", "options");
            this.options = options;
        }

        /// <summary>Monotonic local clock in seconds shared by arrival stamps and the render loop.</summary>
        public static double LocalTime { get { return Clock.Elapsed.TotalSeconds; } }

        public ConnectionState State { get { return (ConnectionState)Volatile.Read(ref state); } }

        /// <summary>Last error in words (status code and detail; never the token).</summary>
        public string LastError { get { return lastError; } }

        /// <summary>Messages discarded because the main thread did not keep up.</summary>
        public long DroppedOnQueue { get { return Interlocked.Read(ref droppedOnQueue); } }

        public bool IsRunning { get { return worker != null && !worker.IsCompleted; } }

        public void Start()
        {
            if (IsRunning) return;
            cts = new CancellationTokenSource();
            CancellationToken token = cts.Token;
            worker = Task.Run(() => RunAsync(token));
        }

        public void Stop()
        {
            if (cts != null)
            {
                cts.Cancel();
                cts.Dispose();
                cts = null;
            }
            worker = null;
            SetState(ConnectionState.Idle);
        }

        public void Dispose()
        {
            Stop();
        }

        public bool TryDequeue(out ReceivedMessage message)
        {
            return queue.TryDequeue(out message);
        }

        private void SetState(ConnectionState s)
        {
            Volatile.Write(ref state, (int)s);
        }

        private async Task RunAsync(CancellationToken ct)
        {
            double retry = options.MinRetrySeconds;
            while (!ct.IsCancellationRequested)
            {
                SetState(ConnectionState.Connecting);
                bool gotData = false;
                try
                {
                    gotData = await SubscribeOnceAsync(ct).ConfigureAwait(false);
                    if (State == ConnectionState.Ended)
                    {
                        return; // server finished the session
                    }
                    lastError = "stream closed by server";
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (RpcException e)
                {
                    if (ct.IsCancellationRequested) return;
                    lastError = e.StatusCode + ": " + e.Status.Detail;
                    if (e.StatusCode == StatusCode.Unauthenticated || e.StatusCode == StatusCode.PermissionDenied)
                    {
                        SetState(ConnectionState.Unauthorized);
                        return;
                    }
                    if (e.StatusCode == StatusCode.NotFound || e.StatusCode == StatusCode.InvalidArgument
                        || e.StatusCode == StatusCode.Unimplemented)
                    {
                        SetState(ConnectionState.Failed);
                        return;
                    }
                }
                catch (Exception e)
                {
                    if (ct.IsCancellationRequested) return;
                    lastError = e.GetType().Name + ": " + e.Message;
                }

                if (gotData) retry = options.MinRetrySeconds;
                SetState(ConnectionState.Reconnecting);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(retry), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                retry = Math.Min(options.MaxRetrySeconds, retry * 2);
            }
        }

        /// <summary>One subscription; returns whether any message arrived.</summary>
        private async Task<bool> SubscribeOnceAsync(CancellationToken ct)
        {
            var web = new GrpcWebHandler(options.UseTextMode ? GrpcWebMode.GrpcWebText : GrpcWebMode.GrpcWeb,
                new HttpClientHandler());
            web.HttpVersion = new Version(1, 1);
            using (GrpcChannel channel = GrpcChannel.ForAddress(options.ServerUrl, new GrpcChannelOptions
            {
                HttpHandler = web,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = 1 << 20,
            }))
            {
                var headers = new Metadata();
                if (!string.IsNullOrEmpty(options.Token))
                {
                    headers.Add("authorization", "Bearer " + options.Token);
                }
                CallInvoker invoker = channel.CreateCallInvoker();
                byte[] request = CoachProto.EncodeSubscribeRequest(options.SessionId);
                bool any = false;
                using (AsyncServerStreamingCall<StreamMessage> call = invoker.AsyncServerStreamingCall(
                    SubscribeMethod, null, new CallOptions(headers, null, ct), request))
                {
                    while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                    {
                        StreamMessage m = call.ResponseStream.Current;
                        Enqueue(m, !any);
                        any = true;
                        if (m.Kind == StreamMessageKind.Info)
                        {
                            SetState(ConnectionState.Streaming);
                        }
                        else if (m.Kind == StreamMessageKind.End)
                        {
                            lastError = "session ended: " + m.End.Reason;
                            SetState(ConnectionState.Ended);
                        }
                    }
                }
                return any;
            }
        }

        private void Enqueue(StreamMessage m, bool startsCall)
        {
            queue.Enqueue(new ReceivedMessage { Message = m, ArrivalTime = LocalTime, StartsCall = startsCall });
            ReceivedMessage discarded;
            while (queue.Count > options.MaxQueuedMessages && queue.TryDequeue(out discarded))
            {
                Interlocked.Increment(ref droppedOnQueue);
            }
        }
    }
}
