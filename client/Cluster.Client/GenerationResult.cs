namespace Cluster.Client;

/// <summary>A whole generation: its text, why it ended, and its token counts.</summary>
/// <param name="Text">The generated text (stop strings excluded).</param>
/// <param name="FinishReason"><c>stop</c>, <c>length</c> or <c>cancelled</c>.</param>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="GeneratedTokens">Tokens generated.</param>
public sealed record GenerationResult(string Text, string FinishReason, int PromptTokens, int GeneratedTokens);
