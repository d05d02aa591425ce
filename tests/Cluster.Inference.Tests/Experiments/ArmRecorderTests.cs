using Cluster.Inference.Experiments;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Inference.Tests.Experiments;

public sealed class ArmRecorderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void RecordFeedback_AnsweredId_CountedOnceThenRefused()
    {
        var recorder = new ArmRecorder(_time);
        recorder.Record("r1", TimeSpan.FromMilliseconds(5), failed: false);

        Assert.True(recorder.RecordFeedback("r1", accepted: true));
        Assert.False(recorder.RecordFeedback("r1", accepted: false));
        var snapshot = recorder.Snapshot();
        Assert.Equal((1, 1), (snapshot.Feedback, snapshot.Accepted));
    }

    [Fact]
    public void RecordFeedback_UnknownOrFailedId_Refused()
    {
        var recorder = new ArmRecorder(_time);
        recorder.Record("failed", TimeSpan.FromMilliseconds(5), failed: true);

        Assert.False(recorder.RecordFeedback("failed", accepted: true));
        Assert.False(recorder.RecordFeedback("never-seen", accepted: true));
        Assert.Equal(0, recorder.Snapshot().Feedback);
    }

    [Fact]
    public void Snapshot_PastCapacity_KeepsTheMostRecentOldestFirstWithTheirTimes()
    {
        var recorder = new ArmRecorder(_time);
        for (var i = 0; i < ArmRecorder.SampleCapacity + 10; i++)
        {
            recorder.Record("", TimeSpan.FromMilliseconds(i), failed: i % 2 == 0);
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var snapshot = recorder.Snapshot();
        Assert.Equal(ArmRecorder.SampleCapacity + 10, snapshot.Requests);
        Assert.Equal((ArmRecorder.SampleCapacity + 10) / 2, snapshot.Errors);
        Assert.Equal(ArmRecorder.SampleCapacity, snapshot.Samples.Length);
        Assert.Equal(10, snapshot.Samples[0].Milliseconds);
        Assert.Equal(ArmRecorder.SampleCapacity + 9, snapshot.Samples[^1].Milliseconds);
        Assert.Equal(_time.GetUtcNow().AddMilliseconds(-1), snapshot.Samples[^1].At);
    }
}
