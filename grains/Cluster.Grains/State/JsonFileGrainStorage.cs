using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Cluster.Grains.State;

/// <summary>
/// Grain storage in a local folder, one indented JSON file per grain state (<c>{state}-{grain}.json</c>),
/// for a single-node cluster. Each write goes to a temporary file that is flushed to disk, renamed over the
/// old one, and then the folder is flushed too, so a write that reported success survives a crash or a power
/// loss, and a crash in between leaves either the old or the new state. An ETag in the file catches
/// concurrent writers. A file that does not parse (truncated, corrupt) is renamed aside to
/// <c>{file}.corrupt-{UTC time}</c> with an error in the log, and the grain starts from its defaults.
/// </summary>
public sealed class JsonFileGrainStorage(string directory, ILogger<JsonFileGrainStorage> logger) : IGrainStorage
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
        await _gate.WaitAsync();
        try
        {
            var stored = await ReadAsync<T>(FileOf(stateName, grainId));
            if (stored is null)
            {
                return;
            }

            grainState.State = stored.State;
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        finally
        {
            _gate.Release();
        }
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
            var etag = (long.TryParse(grainState.ETag, CultureInfo.InvariantCulture, out var previous) ? previous + 1 : 1)
                .ToString(CultureInfo.InvariantCulture);
            System.IO.Directory.CreateDirectory(Directory);
            var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
            try
            {
                await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                {
                    await stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new Stored<T>(etag, grainState.State!), Json));
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temporary, file, overwrite: true);
                DirectorySync.Flush(Directory);
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
            if (System.IO.Directory.Exists(Directory))
            {
                DirectorySync.Flush(Directory);
            }

            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The stored state, or null when there is none or the file was corrupt (and has been moved aside).</summary>
    private async Task<Stored<T>?> ReadAsync<T>(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            await using var stream = File.OpenRead(file);
            var stored = await JsonSerializer.DeserializeAsync<Stored<T>>(stream, Json);
            return stored is { ETag: not null, State: not null } ? stored : throw new JsonException("the file has no ETag or no State");
        }
        catch (JsonException e)
        {
            MoveAside(file, e.Message);
            return null;
        }
    }

    private void MoveAside(string file, string problem)
    {
        var aside = $"{file}.corrupt-{DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}";
        File.Move(file, aside);
        DirectorySync.Flush(Directory);
        logger.LogError(
            "Grain state file {File} is not valid ({Problem}); moved it to {Aside} and starting from the defaults. Restore the decisions it held by hand.",
            file, problem, aside);
    }

    private async Task CheckETagAsync<T>(string file, string? expected)
    {
        var current = (await ReadAsync<T>(file))?.ETag;
        if (current != expected)
        {
            throw new InconsistentStateException($"Grain state file '{file}' changed under this writer (ETag {current ?? "none"}, " +
                $"expected {expected ?? "none"}).", current, expected);
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
