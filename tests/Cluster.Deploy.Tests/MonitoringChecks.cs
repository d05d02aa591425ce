using Cluster.Silo.Configuration;

namespace Cluster.Deploy.Tests;

/// <summary>Prometheus scrape configurations: the silo's metrics path and port.</summary>
public static class MonitoringChecks
{
    public static void Check(string file, YamlNode document, Problems problems)
    {
        var jobs = document["scrape_configs"];
        if (!jobs.Items.Any())
        {
            problems.Add(file, jobs.Path, "no scrape_configs");
        }

        var metricsPort = SiloSchema.Ports(new SiloSettings())["metrics"];
        foreach (var job in jobs.Items)
        {
            var path = job["metrics_path"];
            if (path.Text != SiloSchema.MetricsPath)
            {
                problems.Add(file, path.Path, $"'{path.Text}' is not the silo's metrics path {SiloSchema.MetricsPath}");
            }

            foreach (var target in job["static_configs"].Items.SelectMany(c => c["targets"].Items))
            {
                if (!target.Text!.EndsWith($":{metricsPort}", StringComparison.Ordinal))
                {
                    problems.Add(file, target.Path, $"'{target.Text}' is not on the silo's metrics port {metricsPort}");
                }
            }
        }
    }
}
