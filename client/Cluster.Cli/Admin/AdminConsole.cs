using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>The admin commands' console: Spectre.Console over a writer, plain and wide when the output is not a terminal.</summary>
public static class AdminConsole
{
    /// <summary>The admin views as JSON: snake_case names, enums as text.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A console writing to <paramref name="output"/>; colours, live views and progress only on a terminal.</summary>
    public static IAnsiConsole Create(TextWriter output)
    {
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = 240;
            console.Profile.Capabilities.Unicode = false;
        }

        return console;
    }

    /// <summary>Writes <paramref name="value"/> as JSON.</summary>
    public static void WriteJson(this IAnsiConsole console, object value) =>
        console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Json));

    /// <summary>Writes one plain line (no markup).</summary>
    public static void Line(this IAnsiConsole console, string text) => console.WriteLine(text);

    /// <summary>Bytes as KiB, MiB or GiB.</summary>
    public static string Bytes(double bytes) => bytes switch
    {
        >= 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 30):0.0} GiB"),
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 20):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024:0.0} KiB"),
    };

    /// <summary>A number with a fixed format in the invariant culture.</summary>
    public static string Number(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);
}
