using Cluster.Client;
using Cluster.Contracts.Admin;

namespace Cluster.Silo.Edge;

/// <summary>The model repository extension both edge protocols offer: loading and unloading a model.</summary>
public sealed class ModelRepositoryControl(InferenceClient client, IGrainFactory grains, ClusterReadiness readiness)
{
    /// <summary>
    /// Loads (reading its folder again) and warms a model, or unloads it from every replica, through the
    /// cluster's admin API; the silo reports not ready while a load warms. An unload through the protocol is
    /// always carried out (as Triton does), so it is forced past the admin API's traffic checks.
    /// </summary>
    public async Task SetLoadedAsync(string model, bool loaded)
    {
        var admin = grains.GetGrain<IClusterAdminGrain>(0);
        if (!loaded)
        {
            await admin.UnloadAsync(model, version: null, force: true);
            client.ForgetResolutions();
            return;
        }

        // Not ready while the model warms: a load-balancer must not send its traffic here yet.
        readiness.BeginWarming();
        try
        {
            await admin.LoadAsync(model, version: null);
            client.ForgetResolutions();
            await admin.WarmAsync(model, version: null);
        }
        finally
        {
            readiness.EndWarming();
        }
    }
}
