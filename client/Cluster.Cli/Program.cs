using Cluster.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C ends a live view cleanly; a second one ends the process.
    e.Cancel = !interrupted.IsCancellationRequested;
    interrupted.Cancel();
};
return await ClusterCommandLine.RunAsync(args, Console.Out, Console.Error, interrupted.Token);
