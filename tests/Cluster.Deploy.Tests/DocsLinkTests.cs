using System.Text.RegularExpressions;
using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary>
/// The README and every page under <c>docs/</c> and <c>deploy/</c> point only at things that exist: each relative
/// link at a file (and, with an anchor, at a heading of that page), and each command in a code block at a project,
/// script, console command or benchmark scenario that the repository has.
/// </summary>
public sealed partial class DocsLinkTests
{
    public static TheoryData<string> Pages()
    {
        var root = RepositoryPaths.Root;
        var pages = new TheoryData<string>();
        foreach (var page in new[] { "README.md" }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(p => Path.GetRelativePath(root, p)))
            .Concat(Directory.GetFiles(Path.Combine(root, "deploy"), "*.md", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p))))
        {
            pages.Add(page);
        }

        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryRelativeLink_PointsAtAFileAndHeadingThatExist(string page)
    {
        var path = Path.Combine(RepositoryPaths.Root, page);
        var broken = new List<string>();
        foreach (Match link in MarkdownLink().Matches(WithoutCodeBlocks(File.ReadAllText(path))))
        {
            var target = link.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{target}: no such file");
            }
            else if (hash >= 0 && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(resolved).Contains(target[(hash + 1)..]))
            {
                broken.Add($"{target}: no such heading in {Path.GetFileName(resolved)}");
            }
        }

        Assert.True(broken.Count == 0, $"{page}: {string.Join("; ", broken)}");
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryCommand_NamesAProjectScriptOrCommandThatExists(string page)
    {
        var root = RepositoryPaths.Root;
        var broken = new List<string>();
        foreach (var line in CodeBlockLines(File.ReadAllText(Path.Combine(root, page))))
        {
            foreach (Match project in ProjectArgument().Matches(line))
            {
                var folder = project.Groups["path"].Value;
                if (!Directory.Exists(Path.Combine(root, folder)) && !File.Exists(Path.Combine(root, folder)))
                {
                    broken.Add($"no project {folder}");
                }
            }

            if (BashScript().Match(line) is { Success: true } script && !File.Exists(Path.Combine(root, script.Groups["path"].Value)))
            {
                broken.Add($"no script {script.Groups["path"].Value}");
            }

            if (ConsoleCommand().Match(line) is { Success: true } command && !SourceNames(root, "client/Cluster.Cli", command.Groups["name"].Value))
            {
                broken.Add($"no console command {command.Groups["name"].Value}");
            }

            if (BenchmarkScenario().Match(line) is { Success: true } scenario && !SourceNames(root, "tests/Cluster.Benchmarks", scenario.Groups["name"].Value))
            {
                broken.Add($"no benchmark scenario {scenario.Groups["name"].Value}");
            }
        }

        Assert.True(broken.Count == 0, $"{page}: {string.Join("; ", broken)}");
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in WithoutCodeBlocks(File.ReadAllText(markdown)).Split('\n'))
        {
            if (Heading().Match(line) is not { Success: true } heading)
            {
                continue;
            }

            var slug = NotSlug().Replace(heading.Groups["text"].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-');
            var unique = slug;
            for (var n = 1; !anchors.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    private static bool SourceNames(string root, string project, string name) =>
        Directory.GetFiles(Path.Combine(root, project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Any(f => File.ReadAllText(f).Contains($"\"{name}\"", StringComparison.Ordinal));

    private static string WithoutCodeBlocks(string markdown) => string.Join('\n', Lines(markdown, inCode: false));

    private static IEnumerable<string> CodeBlockLines(string markdown) => Lines(markdown, inCode: true);

    private static IEnumerable<string> Lines(string markdown, bool inCode)
    {
        var code = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                code = !code;
                continue;
            }

            if (code == inCode)
            {
                yield return line;
            }
        }
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{N}\s_-]")]
    private static partial Regex NotSlug();

    [GeneratedRegex(@"(?:--project|dotnet test)\s+(?<path>(?:silo|client|tests|grains)/[\w./-]+)")]
    private static partial Regex ProjectArgument();

    [GeneratedRegex(@"^\s*(?:\S+=\S+\s+)*bash\s+(?<path>[\w./-]+\.sh)")]
    private static partial Regex BashScript();

    [GeneratedRegex(@"--project\s+client/Cluster\.Cli\s+--\s+(?<name>[a-z][a-z-]*)")]
    private static partial Regex ConsoleCommand();

    [GeneratedRegex(@"--project\s+tests/Cluster\.Benchmarks\s+--\s+(?<name>[a-z][a-z-]*)")]
    private static partial Regex BenchmarkScenario();
}
