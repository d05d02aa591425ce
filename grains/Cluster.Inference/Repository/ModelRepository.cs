using System.Globalization;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Inference.Generation;
using Cluster.Inference.Text;
using Microsoft.Extensions.Logging;

namespace Cluster.Inference.Repository;

/// <summary>
/// A model repository in Triton's layout: <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c>
/// plus an optional <c>&lt;root&gt;/&lt;model&gt;/config.json</c>, over one or more root folders (like Triton's
/// repeated <c>--model-repository</c>; a model name must be unique across them). A model or version that
/// cannot be read is reported with its error; it never stops the others from being served.
/// </summary>
public sealed class ModelRepository(IReadOnlyList<string> rootPaths, ILogger<ModelRepository> logger)
{
    /// <summary>File name of a version's model inside its folder.</summary>
    public const string ModelFileName = "model.onnx";

    /// <summary>File name of a model's configuration.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Default batch size for a model without config.json whose tensors all have a dynamic first dimension.</summary>
    public const int DefaultMaxBatchSize = 8;

    /// <summary>A repository with one root folder.</summary>
    public ModelRepository(string rootPath, ILogger<ModelRepository> logger)
        : this([rootPath], logger)
    {
    }

    /// <summary>The repository's folders (absolute), searched in order.</summary>
    public IReadOnlyList<string> RootPaths { get; } = [.. rootPaths.Select(Path.GetFullPath)];

    private string RootDescription => string.Join("', '", RootPaths);

    /// <summary>Reads every model folder; a name found in two roots is served from neither, with an error naming both.</summary>
    public IReadOnlyList<ModelDescriptor> Scan()
    {
        var found = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var root in RootPaths)
        {
            if (!Directory.Exists(root))
            {
                throw new DirectoryNotFoundException($"Model repository '{root}' does not exist.");
            }

            foreach (var directory in Directory.EnumerateDirectories(root))
            {
                var name = Path.GetFileName(directory);
                if (!ModelName.IsValid(name))
                {
                    logger.LogWarning("Skipping folder {Folder} in the model repository: not a valid model name", directory);
                    continue;
                }

                (found.TryGetValue(name, out var places) ? places : found[name] = []).Add(directory);
            }
        }

        return [.. found.Select(model => model.Value.Count == 1 ? Read(model.Key) : Ambiguous(model.Key, model.Value))];
    }

    /// <summary>
    /// Reads one model; throws <see cref="ModelNotFoundException"/> when its folder does not exist. A folder or
    /// file that cannot be read (permissions, an I/O error) fails this model only, with the error on it.
    /// </summary>
    public ModelDescriptor Read(string name)
    {
        var directory = ModelDirectory(name);
        if (!Directory.Exists(directory))
        {
            throw new ModelNotFoundException($"Model '{name}' is not in the repository '{RootDescription}'.");
        }

        try
        {
            return ReadFolder(name, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unservable(name, $"Model '{name}' cannot be read from '{directory}': {e.Message}");
        }
    }

    /// <summary>The ONNX file of a model version.</summary>
    public string ModelFile(string name, long version) =>
        Path.Combine(ModelDirectory(name), version.ToString(CultureInfo.InvariantCulture), ModelFileName);

    /// <summary>
    /// The variant of a model version a device of <paramref name="deviceKind"/> loads by the file-name convention
    /// (<see cref="ModelVariants"/>), and its file.
    /// </summary>
    public (string Variant, string File) VariantFile(string name, long version, string deviceKind) => VariantFile(name, version, deviceKind, []);

    /// <summary>
    /// The variant a device of <paramref name="deviceKind"/> loads, and its file: from the files <paramref name="declared"/> in
    /// <c>config.json</c> when there are any (those declaring a minimum compute capability only where the device's
    /// <paramref name="capability"/> is known and meets it), by the file-name convention otherwise.
    /// </summary>
    public (string Variant, string File) VariantFile(string name, long version, string deviceKind, IReadOnlyList<VariantFile> declared,
        Contracts.Devices.ComputeCapability? capability = null)
    {
        ArgumentNullException.ThrowIfNull(declared);
        if (declared.Count > 0)
        {
            var chosen = ModelVariants.ChooseDeclared(deviceKind, declared, capability);
            return chosen is null ? (ModelVariants.Fp32, ModelFile(name, version)) : (chosen.Precision, VersionFile(name, version, chosen.File));
        }

        var present = ModelVariants.All.Where(v => File.Exists(VersionFile(name, version, ModelVariants.FileName(v))));
        var variant = ModelVariants.Choose(deviceKind, present);
        return (variant, VersionFile(name, version, ModelVariants.FileName(variant)));
    }

    /// <summary>
    /// The file of <paramref name="variant"/> when it is asked for by name (an experiment arm's setting), from the files
    /// <paramref name="declared"/> in <c>config.json</c> or by the file-name convention; null when the version has none.
    /// </summary>
    public string? NamedVariantFile(string name, long version, string variant, IReadOnlyList<VariantFile> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        var file = declared.FirstOrDefault(v => v.Precision == variant)?.File
            ?? (declared.Count == 0 || variant == ModelVariants.Fp32 ? ModelVariants.FileName(variant) : null);
        return file is not null && File.Exists(VersionFile(name, version, file)) ? VersionFile(name, version, file) : null;
    }

    /// <summary>Whether the version holds the file of <paramref name="variant"/> (see <see cref="NamedVariantFile"/>).</summary>
    public bool HasVariant(string name, long version, string variant, IReadOnlyList<VariantFile> declared) =>
        NamedVariantFile(name, version, variant, declared) is not null;

    /// <summary>A file beside the ONNX file in a model version's folder (e.g. a tokenizer's vocabulary).</summary>
    public string VersionFile(string name, long version, string fileName) =>
        Path.Combine(ModelDirectory(name), version.ToString(CultureInfo.InvariantCulture), Path.GetFileName(fileName));

    /// <summary>The folder of a model's warm-up data files (Triton's <c>&lt;model&gt;/warmup</c>).</summary>
    public string WarmupDirectory(string name) => Path.Combine(ModelDirectory(name), "warmup");

    private string ModelDirectory(string name)
    {
        ModelName.Validate(name);
        var directories = RootPaths.Select(root => Path.Combine(root, name));
        return directories.FirstOrDefault(Directory.Exists) ?? Path.Combine(RootPaths[0], name);
    }

    private ModelDescriptor ReadFolder(string name, string directory)
    {
        var configFile = Path.Combine(directory, ConfigFileName);
        ModelConfig? config = null;
        try
        {
            config = File.Exists(configFile) ? ModelConfigReader.Read(configFile) : null;
        }
        catch (ModelConfigException e)
        {
            logger.LogWarning("Model {Model} cannot be served: {Error}", name, e.Message);
            return new ModelDescriptor { Name = name, Config = new ModelConfig(), Versions = ReadVersions(directory, new ModelConfig()), Error = e.Message };
        }

        var versions = ReadVersions(directory, config ?? new ModelConfig());
        config ??= DefaultConfig(versions);
        if (config.Generation is null && versions.Any(v => v.Generates))
        {
            // A decoder dropped in without a config.json (an Optimum export) is served as a generator with the defaults.
            config = new ModelConfig { Generation = new GenerationConfig() };
        }

        return new ModelDescriptor { Name = name, Config = config, Versions = CheckBatchDimension(config, versions) };
    }

    private ModelDescriptor Ambiguous(string name, List<string> directories) =>
        Unservable(name, $"Model '{name}' is in more than one repository folder ({string.Join(", ", directories)}); rename or remove one.");

    private ModelDescriptor Unservable(string name, string error)
    {
        logger.LogWarning("Model {Model} cannot be served: {Error}", name, error);
        return new ModelDescriptor { Name = name, Config = new ModelConfig(), Versions = [], Error = error };
    }

    private ModelVersionDescriptor[] ReadVersions(string modelDirectory, ModelConfig config)
    {
        var (textEmbedding, generation) = (config.TextEmbedding, config.Generation);
        var versions = new List<ModelVersionDescriptor>();
        foreach (var versionDirectory in Directory.EnumerateDirectories(modelDirectory))
        {
            if (!long.TryParse(Path.GetFileName(versionDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            {
                continue;
            }

            var file = Path.Combine(versionDirectory, ModelFileName);
            if (!File.Exists(file))
            {
                versions.Add(Failed(version, $"{file} is missing."));
                continue;
            }

            if (MissingVariant(versionDirectory, config.Variants) is { } missing)
            {
                versions.Add(Failed(version, missing));
                continue;
            }

            try
            {
                var (inputs, outputs) = OnnxModelInspector.Inspect(file);
                var generates = generation is not null || (textEmbedding is null && DecoderLayout.IsDecoder(inputs.Select(i => i.Name)));
                if (generates)
                {
                    (inputs, outputs) = GenerationSignature.Describe(inputs, outputs);
                }
                else if (textEmbedding is not null)
                {
                    (inputs, outputs) = TextEmbeddingSignature.Describe(inputs, outputs, textEmbedding.Dimensions);
                    var vocabulary = Path.Combine(versionDirectory, textEmbedding.Vocabulary);
                    if (!File.Exists(vocabulary))
                    {
                        versions.Add(Failed(version, $"{vocabulary} (text_embedding.vocabulary) is missing."));
                        continue;
                    }
                }

                versions.Add(
                    new ModelVersionDescriptor { Version = version, Inputs = inputs, Outputs = outputs, SizeBytes = new FileInfo(file).Length,
                        Generates = generates });
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or IOException)
            {
                logger.LogWarning("Model file {File} cannot be loaded: {Error}", file, e.Message);
                versions.Add(Failed(version, $"ONNX Runtime cannot load {file}: {e.Message}"));
            }
            catch (ArgumentException e)
            {
                versions.Add(Failed(version, $"{file}: {e.Message}"));
            }
        }

        versions.Sort((a, b) => b.Version.CompareTo(a.Version));
        return [.. versions];
    }

    /// <summary>The error for the first file <c>config.json</c> declares under <c>variants</c> that the version folder lacks; null if none.</summary>
    private static string? MissingVariant(string versionDirectory, VariantFile[] variants)
    {
        var index = Array.FindIndex(variants, v => !File.Exists(Path.Combine(versionDirectory, v.File)));
        return index < 0 ? null : $"{Path.Combine(versionDirectory, variants[index].File)} (variants[{index}].file) is missing.";
    }

    private static ModelVersionDescriptor Failed(long version, string error) =>
        new() { Version = version, Inputs = [], Outputs = [], Error = error };

    private static ModelConfig DefaultConfig(ModelVersionDescriptor[] versions)
    {
        var newest = Array.Find(versions, v => v.IsLoadable);
        var batchable = newest is not null && AllHaveDynamicFirstDimension(newest);
        return new ModelConfig { MaxBatchSize = batchable ? DefaultMaxBatchSize : 0 };
    }

    private static ModelVersionDescriptor[] CheckBatchDimension(ModelConfig config, ModelVersionDescriptor[] versions)
    {
        if (config.MaxBatchSize == 0)
        {
            return versions;
        }

        return Array.ConvertAll(versions, v =>
        {
            if (!v.IsLoadable || AllHaveDynamicFirstDimension(v))
            {
                return v;
            }

            var fixedTensor = v.Inputs.Concat(v.Outputs).First(t => t.Shape.Length == 0 || t.Shape[0] != -1);
            return v with { Error = $"max_batch_size {config.MaxBatchSize} needs a dynamic first dimension on every input and output, but '{fixedTensor}' " +
                "has none; set max_batch_size to 0." };
        });
    }

    private static bool AllHaveDynamicFirstDimension(ModelVersionDescriptor version) =>
        version.Inputs.Concat(version.Outputs).All(t => t.Shape.Length > 0 && t.Shape[0] == -1);
}
