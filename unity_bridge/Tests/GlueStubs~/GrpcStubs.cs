// Compile-check stubs: the Grpc.Core.Api / Grpc.Net.Client(.Web) surface PoseStreamClient uses,
// with the same signatures as the NuGet packages (2.x). NOT an implementation.
using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Grpc.Core
{
    public enum MethodType { Unary, ClientStreaming, ServerStreaming, DuplexStreaming }

    public enum StatusCode
    {
        OK = 0, Cancelled = 1, Unknown = 2, InvalidArgument = 3, DeadlineExceeded = 4, NotFound = 5,
        AlreadyExists = 6, PermissionDenied = 7, Unauthenticated = 16, ResourceExhausted = 8,
        FailedPrecondition = 9, Aborted = 10, OutOfRange = 11, Unimplemented = 12, Internal = 13,
        Unavailable = 14, DataLoss = 15,
    }

    public struct Status
    {
        public StatusCode StatusCode { get { return default(StatusCode); } }
        public string Detail { get { return ""; } }
    }

    public class RpcException : Exception
    {
        public Status Status { get { return default(Status); } }
        public StatusCode StatusCode { get { return default(StatusCode); } }
    }

    public class Marshaller<T> { }

    public static class Marshallers
    {
        public static Marshaller<T> Create<T>(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { return null; }
    }

    public class Method<TRequest, TResponse>
    {
        public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller,
            Marshaller<TResponse> responseMarshaller) { }
    }

    public sealed class Metadata : System.Collections.Generic.List<Metadata.Entry>
    {
        public sealed class Entry { }
        public void Add(string key, string value) { }
    }

    public struct CallOptions
    {
        public CallOptions(Metadata headers = null, DateTime? deadline = null,
            CancellationToken cancellationToken = default(CancellationToken)) { }
    }

    public interface IAsyncStreamReader<out T>
    {
        T Current { get; }
        Task<bool> MoveNext(CancellationToken cancellationToken);
    }

    public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
    {
        public IAsyncStreamReader<TResponse> ResponseStream { get { return null; } }
        public void Dispose() { }
    }

    public abstract class CallInvoker
    {
        public abstract AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
            Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request)
            where TRequest : class where TResponse : class;
    }
}

namespace Grpc.Net.Client
{
    public sealed class GrpcChannelOptions
    {
        public HttpMessageHandler HttpHandler { get; set; }
        public bool DisposeHttpClient { get; set; }
        public int? MaxReceiveMessageSize { get; set; }
    }

    public sealed class GrpcChannel : IDisposable
    {
        public static GrpcChannel ForAddress(string address, GrpcChannelOptions channelOptions) { return null; }
        public Grpc.Core.CallInvoker CreateCallInvoker() { return null; }
        public void Dispose() { }
    }
}

namespace Grpc.Net.Client.Web
{
    public enum GrpcWebMode { GrpcWebText, GrpcWeb }

    public sealed class GrpcWebHandler : DelegatingHandler
    {
        public GrpcWebHandler(GrpcWebMode mode, HttpMessageHandler innerHandler) : base(innerHandler) { }
        public Version HttpVersion { get; set; }
    }
}
