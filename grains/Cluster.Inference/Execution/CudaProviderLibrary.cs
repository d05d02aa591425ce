using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>
/// Registers ONNX Runtime's CUDA provider library with the environment, once per process, so that
/// <see cref="OrtEnv.CopyTensors"/> finds its host↔device data transfer. Sessions opened with
/// <c>AppendExecutionProvider_CUDA</c> run on the GPU without it, but register no data transfer, and copies between host
/// and device tensors outside a run then fail with "Data transfer implementation ... was not found".
/// </summary>
public static class CudaProviderLibrary
{
    /// <summary>The provider library's file name on this operating system.</summary>
    public static string FileName => OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";

    private static readonly Lazy<string?> Registration = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Registers the library the first time; returns null once it is registered, else why it could not be.</summary>
    public static string? EnsureRegistered() => Registration.Value;

    /// <summary>
    /// The provider library beside the application (a published app) or in its <c>runtimes/&lt;rid&gt;/native</c> folder
    /// (a built one), or null.
    /// </summary>
    public static string? Find(string baseDirectory)
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var rid = $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        return new[] { Path.Combine(baseDirectory, FileName), Path.Combine(baseDirectory, "runtimes", rid, "native", FileName) }
            .FirstOrDefault(File.Exists);
    }

    private static string? Register()
    {
        if (Find(AppContext.BaseDirectory) is not { } path)
        {
            return $"{FileName} is neither in {AppContext.BaseDirectory} nor in its runtimes folder";
        }

        try
        {
            OrtEnv.Instance().RegisterExecutionProviderLibrary("cluster-cuda", path);
            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return $"registering {path} failed: {e.Message}";
        }
    }
}
