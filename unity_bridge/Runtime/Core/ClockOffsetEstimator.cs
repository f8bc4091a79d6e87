using System.Collections.Generic;

namespace CoachBridge.Core
{
    /// <summary>
    /// Maps the local clock onto the sender's capture timebase for <see cref="JitterBuffer.Sample"/>.
    ///
    /// For every received frame, <c>arrival_local - capture</c> = clock offset + network/processing
    /// delay. The smallest value seen in a sliding window is the best estimate of the offset (the
    /// frame that travelled fastest); the jitter buffer's Delay then absorbs the extra delay of
    /// slower frames. The window lets the estimate follow clock drift and route changes.
    /// </summary>
    public sealed class ClockOffsetEstimator
    {
        private struct Obs
        {
            public double Arrival;
            public double Value;
        }

        private readonly double window;
        // Monotonic deque: Values strictly increasing from front to back, so the front is the minimum.
        private readonly LinkedList<Obs> deque = new LinkedList<Obs>();

        /// <param name="windowSeconds">How long an observation counts (default 10 s).</param>
        public ClockOffsetEstimator(double windowSeconds = 10.0)
        {
            window = windowSeconds;
        }

        /// <summary>True after the first observation.</summary>
        public bool HasEstimate { get { return deque.Count > 0; } }

        /// <summary>Current estimate of local - capture clock offset in seconds (0 before any observation).</summary>
        public double Offset { get { return deque.Count > 0 ? deque.First.Value.Value : 0.0; } }

        /// <summary>Records that a frame captured at <paramref name="captureTime"/> arrived at <paramref name="localArrivalTime"/>.</summary>
        public void Observe(double localArrivalTime, double captureTime)
        {
            double v = localArrivalTime - captureTime;
            while (deque.Count > 0 && deque.Last.Value.Value >= v)
            {
                deque.RemoveLast();
            }
            deque.AddLast(new Obs { Arrival = localArrivalTime, Value = v });
            while (deque.Count > 1 && deque.First.Value.Arrival < localArrivalTime - window)
            {
                deque.RemoveFirst();
            }
        }

        /// <summary>Local time expressed in the capture timebase (what <see cref="JitterBuffer.Sample"/> expects).</summary>
        public double ToCaptureTime(double localTime)
        {
            return localTime - Offset;
        }

        public void Reset()
        {
            deque.Clear();
        }
    }
}
