namespace Cluster.Deploy.Tests;

/// <summary>The shipped deployment files agree with the silo's real settings, ports and routes; and each check can fail.</summary>
public sealed class DeployFilesTests
{
    private static readonly DeployFiles Shipped = DeployFiles.FromRepository();

    [Fact]
    public void ShippedFiles_AgreeWithTheSilo()
    {
        Assert.Contains("compose/compose.yaml", Shipped.Files.Keys);
        Assert.Contains("docker/Dockerfile.silo", Shipped.Files.Keys);
        Assert.Contains("kubernetes/silo-cpu.yaml", Shipped.Files.Keys);
        Assert.Contains("monitoring/prometheus.yml", Shipped.Files.Keys);
        var problems = Shipped.Check();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void SiloSchema_ReadsTheRealRoutes()
    {
        Assert.Contains("/v2/health/live", SiloSchema.RestRoutes);
        Assert.Contains("/v2/health/ready", SiloSchema.RestRoutes);
        Assert.Equal("/metrics", SiloSchema.MetricsPath);
    }

    [Theory]
    [InlineData("Cluster__Edge__HttpAddress")]
    [InlineData("Cluster__Devices__Simulated__0__Profile")]
    [InlineData("Cluster__Edge__ApiKeys__1__Scopes__0")]
    [InlineData("Orleans__Metadata__cost_per_hour")]
    public void SettingName_OfARealSetting_IsAccepted(string name) => Assert.Null(SiloSchema.CheckSettingName(name));

    [Theory]
    [InlineData("Cluster__Edge__HttpAdress", "Cluster__Edge__HttpAdress' names no setting: EdgeSettings has no property 'HttpAdress'")]
    [InlineData("Cluster__Edge", "names a section (EdgeSettings)")]
    [InlineData("Cluster__Devices__Simulated__first__Profile", "'first' in 'Cluster__Devices__Simulated__first__Profile' should be a list index")]
    [InlineData("Orleans__Metadata__gpu", "'gpu' is not a silo metadata key")]
    [InlineData("Silo__Name", "is not a Cluster__ or Orleans__Metadata__ setting")]
    public void SettingName_OfNoSetting_IsNamed(string name, string expected) =>
        Assert.Contains(expected, SiloSchema.CheckSettingName(name), StringComparison.Ordinal);

    [Theory]
    [InlineData("docker/Dockerfile.silo", "EXPOSE 8000 8001 8002 11111 30000", "EXPOSE 8000 8001 11111 30000",
        "deploy/docker/Dockerfile.silo: EXPOSE: port 8002 (metrics) is served but not exposed")]
    [InlineData("docker/Dockerfile.silo", "EXPOSE 8000 8001 8002 11111 30000", "EXPOSE 8000 8001 8002 8003 11111 30000",
        "deploy/docker/Dockerfile.silo: EXPOSE: port 8003 is exposed but the silo does not listen on it")]
    [InlineData("docker/Dockerfile.silo", "127.0.0.1:8000/v2/health/live", "127.0.0.1:8000/healthz",
        "deploy/docker/Dockerfile.silo: HEALTHCHECK: path '/healthz' is not a route of the REST edge")]
    [InlineData("docker/Dockerfile.silo", "127.0.0.1:8000/v2/health/live", "127.0.0.1:8001/v2/health/live",
        "deploy/docker/Dockerfile.silo: HEALTHCHECK: port 8001 is not the REST edge's port 8000")]
    [InlineData("docker/Dockerfile.silo", "Cluster__Edge__HttpAddress=0.0.0.0:8000", "Cluster__Edge__HttpAddress=127.0.0.1:8000",
        "deploy/docker/Dockerfile.silo: Cluster__Edge__HttpAddress: binds to loopback 127.0.0.1")]
    [InlineData("docker/Dockerfile.silo", "Cluster__Devices__Cuda=none", "Cluster__Device__Cuda=none",
        "deploy/docker/Dockerfile.silo: Cluster__Device__Cuda: 'Cluster__Device__Cuda' names no setting")]
    [InlineData("docker/Dockerfile.silo", "USER $APP_UID", "USER root", "deploy/docker/Dockerfile.silo: USER: the silo must not run as root")]
    [InlineData("docker/Dockerfile.console", "ENTRYPOINT [\"dotnet\", \"cluster.dll\"]", "ENTRYPOINT dotnet cluster.dll",
        "deploy/docker/Dockerfile.console: ENTRYPOINT: should be the exec form")]
    [InlineData("compose/compose.yaml", "Cluster__SiloName: silo-gcp", "Cluster__SiloNom: silo-gcp",
        "deploy/compose/compose.yaml: services.silo-gcp.environment.Cluster__SiloNom: 'Cluster__SiloNom' names no setting")]
    [InlineData("compose/compose.yaml", "Orleans__Metadata__zone: rack-1", "Orleans__Metadata__rack: rack-1",
        "deploy/compose/compose.yaml: services.silo-cpu.environment.Orleans__Metadata__rack: 'rack' is not a silo metadata key")]
    [InlineData("compose/compose.yaml", "Orleans__Metadata__speed: \"1.5\"", "Orleans__Metadata__speed: fast",
        "deploy/compose/compose.yaml: environment: Orleans:Metadata:speed 'fast' is not a non-negative number")]
    [InlineData("compose/compose.yaml", "\"8200:8000\"", "\"8200:8080\"",
        "deploy/compose/compose.yaml: services.silo-cpu.ports[0]: container port 8080 is not one the silo listens on")]
    [InlineData("compose/compose.yaml", "http://127.0.0.1:8000/v2/health/ready", "http://127.0.0.1:8000/v2/ready",
        "deploy/compose/compose.yaml: services.silo-aws.healthcheck.test: path '/v2/ready' is not a route of the REST edge")]
    [InlineData("compose/compose.yaml", "dockerfile: deploy/docker/Dockerfile.silo", "dockerfile: deploy/docker/Dockerfile.gpu",
        "deploy/compose/compose.yaml: services.silo-aws.build.dockerfile: " +
        "'deploy/docker/Dockerfile.gpu' (context '../..') is not a Dockerfile in deploy/docker")]
    [InlineData("compose/compose.yaml", "image: inference-cluster/console:latest", "image: inference-cluster/cli:latest",
        "deploy/compose/compose.yaml: services.console.image: image 'inference-cluster/cli:latest' has no deploy/docker/Dockerfile.cli")]
    [InlineData("compose/compose.yaml", "Cluster__RedisConnectionString: redis:6379", "Cluster__RedisConnectionString: cache:6379",
        "deploy/compose/compose.yaml: services.silo-aws.environment.Cluster__RedisConnectionString: host 'cache' is not a service of this file")]
    [InlineData("compose/compose.yaml", "command: [\"models\", \"--redis\"", "command: [\"list\", \"--redis\"",
        "deploy/compose/compose.yaml: services.console.command: 'list' is not a command of the console")]
    [InlineData("compose/compose.yaml", "\"--appendonly\", \"yes\"", "\"--appendonly\", \"no\"",
        "deploy/compose/compose.yaml: services.redis.command: Redis must run with \"--appendonly\", \"yes\"")]
    [InlineData("compose/compose.yaml", "      - redis-data:/data\n", "", "deploy/compose/compose.yaml: services.redis: Redis needs a volume mounted at /data")]
    [InlineData("compose/compose.yaml", "\"--requirepass\", \"${REDIS_PASSWORD:?set REDIS_PASSWORD to the password Redis requires}\"]", "\"--save\", \"60 1\"]",
        "deploy/compose/compose.yaml: services.redis.command: Redis must run with \"--requirepass\"")]
    [InlineData("compose/compose.yaml", "  Cluster__Tls__CertificatePath: /certs/cluster-node.crt\n", "",
        "deploy/compose/compose.yaml: services.silo-aws.environment: a silo clustering through Redis needs Cluster__Tls__CertificatePath")]
    [InlineData("compose/compose.yaml", "  Cluster__RedisPassword: ${REDIS_PASSWORD:?set REDIS_PASSWORD to the password Redis requires}\n", "",
        "deploy/compose/compose.yaml: services.silo-gcp.environment: a silo clustering through Redis needs Cluster__RedisPassword")]
    [InlineData("compose/compose.yaml", "  Cluster__ClusterId: inference\n",
        "  Cluster__ClusterId: inference\n  Cluster__AllowInsecureClusterPorts: \"true\"\n",
        "deploy/compose/compose.yaml: services.silo-cpu.environment: Cluster__AllowInsecureClusterPorts opens the silo and gateway ports without TLS")]
    [InlineData("compose/compose.yaml", "\"--port\", \"0\", \"--tls-port\", \"6379\"", "\"--port\", \"6379\"",
        "deploy/compose/compose.yaml: services.redis.command: Redis must run with \"--tls-port\" and \"--port\", \"0\"")]
    [InlineData("compose/compose.yaml", "  Cluster__RedisTls: \"true\"\n", "",
        "deploy/compose/compose.yaml: services.silo-aws.environment: a silo clustering through Redis needs Cluster__RedisTls")]
    [InlineData("kubernetes/redis.yaml", "\"--port\", \"0\", ", "",
        "deploy/kubernetes/redis.yaml: Deployment redis: spec.template.spec.containers[0].args: Redis must run with \"--tls-port\"")]
    [InlineData("kubernetes/silo-cpu.yaml", "            - name: Cluster__RedisTls\n              value: \"true\"\n", "",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].env: a silo clustering through Redis needs Cluster__RedisTls")]
    [InlineData("compose/compose.yaml", "  Cluster__Edge__ApiKeys__0__Key: ${CLUSTER_API_KEY:?set CLUSTER_API_KEY to the API key callers of the edge send}\n",
        "", "deploy/compose/compose.yaml: services.silo-aws.environment: an edge listening beyond loopback needs Cluster__Edge__ApiKeys__0__Key")]
    [InlineData("kubernetes/silo-cpu.yaml", "            - name: Cluster__Edge__ApiKeys__0__Key\n", "            - name: Cluster__Edge__ApiKeys__0__Secret\n",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].env: an edge listening beyond loopback needs")]
    [InlineData("kubernetes/redis.yaml", ", \"--requirepass\", \"$(REDIS_PASSWORD)\"", "",
        "deploy/kubernetes/redis.yaml: Deployment redis: spec.template.spec.containers[0].args: Redis must run with \"--requirepass\"")]
    [InlineData("kubernetes/silo-cpu.yaml", "            - name: Cluster__Tls__KeyPath\n              value: /tls/tls.key\n", "",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].env: a silo clustering through Redis needs " +
            "Cluster__Tls__KeyPath")]
    [InlineData("kubernetes/redis.yaml", "args: [\"--appendonly\", \"yes\"", "args: [\"--save\", \"\"",
        "deploy/kubernetes/redis.yaml: Deployment redis: spec.template.spec.containers[0].args: Redis must run with \"--appendonly\", \"yes\"")]
    [InlineData("kubernetes/redis.yaml", "mountPath: /data", "mountPath: /var/lib/redis",
        "deploy/kubernetes/redis.yaml: Deployment redis: spec.template.spec.containers[0]: Redis needs a volume mounted at /data")]
    [InlineData("kubernetes/silo-cpu.yaml", "path: /v2/health/ready", "path: /v2/health/readyz",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].readinessProbe.httpGet: path '/v2/health/readyz' is not a " +
            "route of the REST edge")]
    [InlineData("kubernetes/silo-cpu.yaml", "path: /v2/health/live", "path: /v2/health/ready",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].livenessProbe.httpGet: path '/v2/health/ready' should be " +
            "'/v2/health/live'")]
    [InlineData("kubernetes/silo-cpu.yaml", "              port: http\n            periodSeconds: 5", "              port: grpc\n            periodSeconds: 5",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].readinessProbe.httpGet: port 8001 is not the REST edge's " +
            "port 8000")]
    [InlineData("kubernetes/silo-cpu.yaml", "name: Cluster__Clustering", "name: Cluster__Clusterin",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].env[2]: 'Cluster__Clusterin' names no setting")]
    [InlineData("kubernetes/silo-cpu.yaml", "prometheus.io/port: \"8002\"", "prometheus.io/port: \"9090\"",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.metadata.annotations.prometheus.io/port: '9090' should be '8002'")]
    [InlineData("kubernetes/silo-cpu.yaml", "containerPort: 8002", "containerPort: 9090",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].ports: needs a port named 'metrics' with containerPort 8002")]
    [InlineData("kubernetes/silo-cpu.yaml", "image: inference-cluster/silo", "image: inference-cluster/silo-cpu",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0]: image 'inference-cluster/silo-cpu' has no " +
            "deploy/docker/Dockerfile.silo-cpu")]
    [InlineData("kubernetes/silo-cpu.yaml", "image: inference-cluster/silo\n", "image: inference-cluster/silo\n          command: [\"dotnet\", \"Silo.dll\"]\n",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.containers[0].command: differs from the ENTRYPOINT of " +
            "deploy/docker/Dockerfile.silo")]
    [InlineData("kubernetes/silo-cpu.yaml", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 10",
        "deploy/kubernetes/silo-cpu.yaml: Deployment silo-cpu: spec.template.spec.terminationGracePeriodSeconds: 10 s does not cover the preStop sleep (5 s)")]
    [InlineData("kubernetes/silo-gcp-l4.yaml", "              nvidia.com/gpu: 1\n", "",
        "deploy/kubernetes/silo-gcp-l4.yaml: Deployment silo-gcp-l4: spec.template.spec.containers[0]: a CUDA silo needs an nvidia.com/gpu limit")]
    [InlineData("kubernetes/redis.yaml", "  connection-string: redis:6379", "  redis: redis:6379",
        "deploy/kubernetes/silo-aws-h100.yaml: Deployment silo-aws-h100: spec.template.spec.containers[0].env[3].valueFrom.secretKeyRef: no Secret " +
            "'cluster-redis' with key 'connection-string'")]
    [InlineData("kubernetes/services.yaml", "targetPort: grpc", "targetPort: grcp",
        "deploy/kubernetes/services.yaml: Service inference: spec.ports[1].targetPort: 'grcp' is not a container port of the pods it selects")]
    [InlineData("kubernetes/services.yaml", "    - name: http\n      port: 8000", "    - name: http\n      port: 80",
        "deploy/kubernetes/services.yaml: Service inference: spec.ports[0].port: 80 differs from the container's 8000")]
    [InlineData("kubernetes/disruption-budget.yaml", "app.kubernetes.io/name: inference-silo", "app.kubernetes.io/name: silo",
        "deploy/kubernetes/disruption-budget.yaml: PodDisruptionBudget inference-silo: spec.selector: selects no pods")]
    [InlineData("kubernetes/kustomization.yaml", "  - services.yaml", "  - service.yaml",
        "deploy/kubernetes/kustomization.yaml: Kustomization : resources[5]: 'service.yaml' is not a file in deploy/kubernetes")]
    [InlineData("monitoring/prometheus.yml", "127.0.0.1:8002", "127.0.0.1:9100",
        "deploy/monitoring/prometheus.yml: scrape_configs[0].static_configs[0].targets[0]: '127.0.0.1:9100' is not on the silo's metrics port 8002")]
    [InlineData("monitoring/prometheus.yml", "metrics_path: /metrics", "metrics_path: /prometheus",
        "deploy/monitoring/prometheus.yml: scrape_configs[0].metrics_path: '/prometheus' is not the silo's metrics path /metrics")]
    public void BrokenFile_IsReportedByFileAndKey(string file, string oldText, string newText, string expected)
    {
        var problems = Shipped.With(file, oldText, newText).Check();
        Assert.True(problems.Any(p =>
            p.StartsWith(expected,
                StringComparison.Ordinal)), $"expected a problem starting '{expected}'; got:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
    }
}
