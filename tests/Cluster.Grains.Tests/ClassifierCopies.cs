namespace Cluster.Grains.Tests;

/// <summary>Test models made from the demo classifier: its ONNX file under another name, with a config of the test's own.</summary>
internal static class ClassifierCopies
{
    /// <summary>Adds model <paramref name="name"/> version 1 to <paramref name="repository"/>: the classifier's file and <paramref name="config"/>.</summary>
    public static void Add(string repository, string name, string config)
    {
        var version = Path.Combine(repository, name, "1");
        Directory.CreateDirectory(version);
        File.Copy(Path.Combine(repository, "tiny_classifier", "1", "model.onnx"), Path.Combine(version, "model.onnx"));
        File.WriteAllText(Path.Combine(repository, name, "config.json"), config);
    }
}
