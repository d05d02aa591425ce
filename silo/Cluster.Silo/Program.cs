using Cluster.Inference.Generation;
using Cluster.Inference.Onnx;
using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;

if (args is ["--write-demo-models", var directory])
{
    DemoModels.WriteAll(directory);
    Console.WriteLine($"Wrote {DemoModels.All.Count} demo models to {Path.GetFullPath(directory)}");
    return 0;
}

if (args is ["--write-demo-variants", var variantsDirectory])
{
    DemoModels.WriteAll(variantsDirectory);
    DemoModels.WriteVariants(variantsDirectory);
    var withVariants = string.Join(", ", DemoModels.WithVariants);
    Console.WriteLine($"Wrote the demo models with the INT8 and FP16 variants of {withVariants} to {Path.GetFullPath(variantsDirectory)}");
    return 0;
}

if (args is ["--write-demo-decoder", var decoderDirectory])
{
    DemoDecoder.Write(decoderDirectory);
    Console.WriteLine($"Wrote the demo decoder {DemoDecoder.Name} to {Path.GetFullPath(decoderDirectory)}");
    return 0;
}

try
{
    using var host = ClusterHost.Build(args);
    await host.RunAsync();
    return 0;
}
catch (SiloConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
