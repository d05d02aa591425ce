namespace Cluster.Client.Security;

/// <summary>A TLS setting is wrong; the message names the setting and the file.</summary>
public sealed class ClusterTlsException(string message) : Exception(message);
