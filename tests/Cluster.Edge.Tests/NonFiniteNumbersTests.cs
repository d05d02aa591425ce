using System.Text.Json.Nodes;
using Cluster.Client.Tensors;

namespace Cluster.Edge.Tests;

/// <summary>NaN and the infinities are written as Triton writes them: bare tokens, not quoted and not a failure.</summary>
public sealed class NonFiniteNumbersTests
{
    [Fact]
    public void Values_NonFiniteFloatsAndDoubles_BareTokens()
    {
        var values = new JsonArray(
            NonFiniteNumbers.Value(float.NaN), NonFiniteNumbers.Value(float.NegativeInfinity), NonFiniteNumbers.Value(double.PositiveInfinity),
                NonFiniteNumbers.Value(1.5f), NonFiniteNumbers.Value(-2.25));

        Assert.Equal("[NaN,-Infinity,Infinity,1.5,-2.25]", values.ToJsonString());
    }
}
