using Cluster.Client.Protocol;
using Google.Protobuf.Collections;

namespace Cluster.Client.Tensors;

/// <summary>
/// The typed-contents field that carries elements of type <typeparamref name="T"/> as <typeparamref name="TWire"/> values
/// (the protocol widens small integers to 32 bits).
/// </summary>
/// <param name="Name">The field's protocol name, for error messages.</param>
/// <param name="Of">The field in a contents message.</param>
/// <param name="Narrow">A wire value as an element; throws <see cref="OverflowException"/> when out of range.</param>
/// <param name="Widen">An element as a wire value.</param>
public sealed record ContentsField<T, TWire>(string Name, Func<InferTensorContents, RepeatedField<TWire>> Of, Func<TWire, T> Narrow, Func<T, TWire> Widen);
