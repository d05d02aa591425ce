#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU it builds, starts a silo with CUDA on and checks that every GPU
# is healthy with its memory read from the driver, that the demo models' replicas land on a GPU, that each demo
# model's GPU output matches the CPU's within 1e-3, and runs the batching benchmark on the GPU. Prints one JSON
# line (ok, gpus, per-model max abs difference, benchmark figures) and exits 0 only when every check passed.
# Without a GPU it says so and exits 1. Takes under 8 minutes; needs dotnet and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
  python3 -c 'import json,sys; print(json.dumps({"ok": False, "error": sys.argv[1]}))' "$1"
  exit 1
}

if [ ! -e /dev/nvidia0 ] || ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "No NVIDIA GPU on this machine (no /dev/nvidia0 or nvidia-smi fails): the GPU check needs one." >&2
  fail "no NVIDIA GPU present"
fi

work=$(mktemp -d)
silo_pid=""
stop_silo() {
  if [ -n "$silo_pid" ]; then
    kill "$silo_pid" 2>/dev/null || true
    wait "$silo_pid" 2>/dev/null || true
    silo_pid=""
  fi
}
trap 'stop_silo; rm -rf "$work"' EXIT

echo "building" >&2
dotnet build silo/Cluster.Silo -c Release -v q -nologo >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; fail "silo build failed"; }
dotnet build client/Cluster.Cli -c Release -v q -nologo >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; fail "console build failed"; }
dotnet build tests/Cluster.Benchmarks -c Release -v q -nologo >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; fail "benchmark build failed"; }

cli() { dotnet run --no-build -c Release --project client/Cluster.Cli -- "$@"; }
models="$work/models"
dotnet run --no-build -c Release --project silo/Cluster.Silo -- --write-demo-models "$models" >/dev/null

# Starts a silo serving the demo models with CUDA set to $1 and waits (up to 90 s) until its gateway answers.
start_silo() {
  Cluster__Devices__Cuda="$1" Cluster__ModelRepository="$models" Cluster__BundledModels="" \
    Cluster__StateDirectory="$work/state-$1" Logging__LogLevel__Default=Warning \
    dotnet run --no-build -c Release --project silo/Cluster.Silo >"$work/silo-$1.log" 2>&1 &
  silo_pid=$!
  for _ in $(seq 1 90); do
    if cli status --json >/dev/null 2>&1; then return 0; fi
    kill -0 "$silo_pid" 2>/dev/null || { tail -20 "$work/silo-$1.log" >&2; fail "silo with Cuda=$1 exited at start"; }
    sleep 1
  done
  fail "silo with Cuda=$1 did not answer within 90 s"
}

# Runs one inference per demo model with fixed inputs built from its input specs; writes <dir>/<model>.json.
infer_all() {
  local dir=$1
  mkdir -p "$dir"
  cli models --json >"$dir/models.json"
  python3 - "$dir/models.json" >"$dir/commands" <<'PY'
import json, shlex, sys
for model in json.load(open(sys.argv[1])):
    if not model["versions"]:
        continue
    version = model["versions"][-1]
    args = ["infer", model["name"], "--json"]
    for spec in version["inputs"]:
        shape = [1 if d < 0 else d for d in spec["shape"]]
        count = 1
        for d in shape:
            count *= d
        kind = spec["datatype"]
        if kind in ("FP32", "FP16", "FP64"):
            values = [str(round(((i * 7) % 11) * 0.1 - 0.5, 3)) for i in range(count)]
        elif kind == "BOOL":
            values = ["true" if i % 2 else "false" for i in range(count)]
        elif kind == "BYTES":
            values = ["gpu"] * count
        else:
            values = [str(i % 5) for i in range(count)]
        args += ["--input", f'{spec["name"]}={",".join(values)}', "--shape", f'{spec["name"]}={"x".join(map(str, shape))}']
    print(shlex.join(args))
PY
  while read -r line; do
    eval "set -- $line"
    cli "$@" >"$dir/$2.json" || fail "inference of $2 failed"
  done <"$dir/commands"
}

echo "checking the GPU silo" >&2
start_silo auto
for model in $(python3 -c 'import json,sys; print(" ".join(m["name"] for m in json.load(open(sys.argv[1]))))' <(cli models --json)); do
  cli load "$model" >/dev/null || fail "loading $model failed"
done
sleep 3
cli devices --json >"$work/devices.json"
python3 - "$work/devices.json" <<'PY' || fail "a GPU is unhealthy, its memory is not from the driver, or it holds no replica"
import json, sys
gpus = [d["status"] for d in json.load(open(sys.argv[1])) if d["status"]["kind"] == "cuda"]
assert gpus, "no cuda device listed"
for g in gpus:
    assert g["health"] == "healthy", g
    assert g["memory_source"] == "driver" and g["memory_total_bytes"] > 0, g
assert any(g["loaded_models"] for g in gpus), "no replica on a GPU"
PY
infer_all "$work/gpu"
stop_silo

echo "checking the CPU silo" >&2
start_silo none
infer_all "$work/cpu"
stop_silo

echo "batching benchmark on the GPU" >&2
CLUSTER_BENCH_CUDA=auto timeout 240 dotnet run --no-build -c Release --project tests/Cluster.Benchmarks -- batching --seconds 5 --sweep-seconds 2 --warmup-seconds 1 \
  >"$work/bench.log" 2>&1 || { tail -20 "$work/bench.log" >&2; fail "batching benchmark failed"; }

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def outputs(side, model):
    return {o["name"]: o for o in json.load(open(os.path.join(work, side, model + ".json")))["outputs"]}
differences, ok = {}, True
for name in sorted(f[:-5] for f in os.listdir(os.path.join(work, "gpu")) if f.endswith(".json") and f != "models.json"):
    gpu, cpu = outputs("gpu", name), outputs("cpu", name)
    worst = 0.0
    for key, out in gpu.items():
        for a, b in zip(out["data"], cpu[key]["data"]):
            try:
                worst = max(worst, abs(float(a) - float(b)))
            except ValueError:
                worst = worst if a == b else float("inf")
    differences[name] = worst if worst != float("inf") else "non-numeric outputs differ"
    ok = ok and worst <= 1e-3
gpus = [{"device": d["status"]["key"], "memory_total_bytes": d["status"]["memory_total_bytes"], "loaded": d["status"]["loaded_models"]}
        for d in json.load(open(os.path.join(work, "devices.json"))) if d["status"]["kind"] == "cuda"]
bench = json.load(open("artifacts/bench/batching.json"))
print(json.dumps({"ok": ok, "gpus": gpus, "max_abs_difference": differences, "tolerance": 1e-3, "batching": bench.get("summary", bench)}))
sys.exit(0 if ok else 1)
PY
