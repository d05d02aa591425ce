using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace Cluster.Grains.State;

/// <summary>
/// Grain storage in a local folder, one indented JSON file per grain state (<c>{state}-{grain}.json</c>),
/// for a single-node cluster. Each write goes to a temporary file first and is then renamed over the old
/// one, so a crash leaves either the old or the new state. An ETag in the file catches concurrent writers.
/// Any failure throws; nothing is swallowed.
/// </summary>
public sealed class JsonFileGrainStorage(string directory) : IGrainStorage
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The folder the state files live in.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var stored = await ReadAsync<T>(FileOf(stateName, grainId));
        if (stored is null)
        {
            return;
        }

        grainState.State = stored.State;
        grainState.ETag = stored.ETag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var file = FileOf(stateName, grainId);
        await _gate.WaitAsync();
        try
        {
            await CheckETagAsync<T>(file, grainState.ETag);
            var etag = (long.TryParse(grainState.ETag, CultureInfo.InvariantCulture, out var previous) ? previous + 1 : 1).ToString(CultureInfo.InvariantCulture);
            System.IO.Directory.CreateDirectory(Directory);
            var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
            try
            {
                await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(new Stored<T>(etag, grainState.State!), Json));
                File.Move(temporary, file, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }

            grainState.ETag = etag;
            grainState.RecordExists = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var file = FileOf(stateName, grainId);
        await _gate.WaitAsync();
        try
        {
            await CheckETagAsync<T>(file, grainState.ETag);
            File.Delete(file);
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<Stored<T>?> ReadAsync<T>(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        await using var stream = File.OpenRead(file);
        try
        {
            return await JsonSerializer.DeserializeAsync<Stored<T>>(stream, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Grain state file '{file}' is not valid: {e.Message}", e);
        }
    }

    private static async Task CheckETagAsync<T>(string file, string? expected)
    {
        var current = (await ReadAsync<T>(file))?.ETag;
        if (current != expected)
        {
            throw new InconsistentStateException($"Grain state file '{file}' changed under this writer (ETag {current ?? "none"}, expected {expected ?? "none"}).", current, expected);
        }
    }

    private string FileOf(string stateName, GrainId grainId)
    {
        var name = new StringBuilder();
        foreach (var c in $"{stateName}-{grainId}")
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }

        return Path.Combine(Directory, name.Append(".json").ToString());
    }

    private sealed record Stored<T>(string ETag, T State);
}
