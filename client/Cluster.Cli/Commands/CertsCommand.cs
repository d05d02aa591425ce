using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Client.Security;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>certs ca --out dir</c> and <c>certs node --name n --ca dir</c>: the cluster CA and the node certificates
/// it issues, as PEM files. Files already there are kept (so a start script may run them every time) unless
/// <c>--force</c> is given.
/// </summary>
public static class CertsCommand
{
    /// <summary>Runs the command; no cluster connection is needed.</summary>
    public static int Run(CliArguments args, TextWriter output)
    {
        return args.Positional switch
        {
            ["ca"] => Authority(args, output),
            ["node"] => Node(args, output),
            _ => throw new UsageException("certs needs 'ca' or 'node', e.g. cluster certs ca --out certs; cluster certs node --name silo-0 --ca certs"),
        };
    }

    private static int Authority(CliArguments args, TextWriter output)
    {
        var folder = args.Value("--out") ?? throw new UsageException("certs ca needs --out <folder>.");
        var certificatePath = Path.Combine(folder, ClusterCertificates.CaCertificateFile);
        if (File.Exists(certificatePath) && !args.Has("--force"))
        {
            output.WriteLine($"{certificatePath} exists: kept (--force replaces it, and every certificate it issued stops being trusted).");
            return 0;
        }

        using var authority = ClusterCertificates.CreateAuthority(args.Value("--name") ?? "inference-cluster-ca", Days(args, 3650));
        ClusterCertificates.WritePem(authority, folder, "ca");
        output.WriteLine($"Wrote {certificatePath} and {Path.Combine(folder, ClusterCertificates.CaKeyFile)} (keep the key secret), valid " +
            $"until {authority.NotAfter:yyyy-MM-dd}.");
        return 0;
    }

    private static int Node(CliArguments args, TextWriter output)
    {
        var name = args.Value("--name") ?? throw new UsageException("certs node needs --name <name>, e.g. silo-0.");
        if (name.Length == 0 || name.IndexOfAny(['/', '\\', ',', '=']) >= 0)
        {
            throw new UsageException($"--name '{name}' must be non-empty, without '/', '\\', ',' or '='.");
        }

        var caFolder = args.Value("--ca") ?? throw new UsageException("certs node needs --ca <folder> (written by certs ca).");
        var folder = args.Value("--out") ?? caFolder;
        var certificatePath = Path.Combine(folder, name + ".crt");
        if (File.Exists(certificatePath) && !args.Has("--force"))
        {
            output.WriteLine($"{certificatePath} exists: kept (--force replaces it).");
            return 0;
        }

        X509Certificate2 authority;
        try
        {
            authority = ClusterCertificates.ReadAuthority(caFolder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new UsageException($"--ca '{caFolder}' does not hold a readable {ClusterCertificates.CaCertificateFile} " +
                $"and {ClusterCertificates.CaKeyFile}: {e.Message}");
        }

        using (authority)
        {
            var addresses = args.All("--ip")
                .Select(ip => IPAddress.TryParse(ip, out var address) ? address : throw new UsageException($"--ip '{ip}' is not an IP address.")).ToList();
            using var node =
                ClusterCertificates.IssueNode(authority, name, args.All("--dns")
                    .SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), addresses, Days(args, 825));
            ClusterCertificates.WritePem(node, folder, name);
            output.WriteLine($"Wrote {certificatePath} and {Path.Combine(folder, name + ".key")}, issued by {authority.Subject}, valid " +
                $"until {node.NotAfter:yyyy-MM-dd}.");
        }

        return 0;
    }

    private static TimeSpan Days(CliArguments args, int fallback)
    {
        var value = args.Value("--days");
        if (value is null)
        {
            return TimeSpan.FromDays(fallback);
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 36500
            ? TimeSpan.FromDays(days)
            : throw new UsageException($"--days '{value}' must be a whole number of days from 1 to 36500.");
    }
}
