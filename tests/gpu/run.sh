#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU it builds (or takes CLUSTER_PREBUILT's apps), starts a silo with CUDA on and checks that every GPU
# is healthy with its memory read from the driver, that the demo models' replicas land on a GPU, that each demo
# model's GPU output matches the CPU's within 1e-3, that a fixed-shape model with cuda.cuda_graph replays its graph
# on new inputs correctly, and runs the batching benchmark on the GPU. A failed check does not stop the ones after it.
# Prints one JSON line (ok, problems: each failed check with its error, gpus with their
# compute capability, per-model max abs difference, the CUDA graph check, benchmark figures) and exits 0 only when
# every check passed.
# Without a GPU it says so and exits 1. Takes under 8 minutes; needs dotnet and python3.
# GPU_CHECK_LOGS=<dir> keeps the silos' and the benchmark's logs there.
set -euo pipefail
cd "$(dirname "$0")/../.."

# A check that failed: noted, and the checks after it still run; the JSON lists them all and ok is then false.
problem() {
  echo "$1" >&2
  echo "$1" >>"$work/problems"
}

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
keep_logs() {
  if [ -n "${GPU_CHECK_LOGS:-}" ]; then mkdir -p "$GPU_CHECK_LOGS" && cp "$work"/*.log "$GPU_CHECK_LOGS/" 2>/dev/null || true; fi
}
trap 'stop_silo; keep_logs; rm -rf "$work"' EXIT

# CLUSTER_PREBUILT=<dir> runs the silo, console and benchmark that tests/gpu/bundle.sh published into <dir> with the
# `dotnet` on PATH (a runtime is enough), for a GPU machine with no SDK or package feed (tests/gpu/run-bundle.sh).
if [ -n "${CLUSTER_PREBUILT:-}" ]; then
  for app in silo/Cluster.Silo cli/cluster bench/Cluster.Benchmarks; do
    [ -f "$CLUSTER_PREBUILT/$app.dll" ] || fail "CLUSTER_PREBUILT=$CLUSTER_PREBUILT holds no $app.dll: make it with tests/gpu/bundle.sh"
  done
  silo=(dotnet "$CLUSTER_PREBUILT/silo/Cluster.Silo.dll")
  console=(dotnet "$CLUSTER_PREBUILT/cli/cluster.dll")
  bench=(dotnet "$CLUSTER_PREBUILT/bench/Cluster.Benchmarks.dll")
else
  echo "building" >&2
  dotnet build silo/Cluster.Silo -c Release -v q -nologo >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; fail "silo build failed"; }
  dotnet build client/Cluster.Cli -c Release -v q -nologo >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; fail "console build failed"; }
  dotnet build tests/Cluster.Benchmarks -c Release -v q -nologo >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; fail "benchmark build failed"; }
  silo=(dotnet run --no-build -c Release --project silo/Cluster.Silo --)
  console=(dotnet run --no-build -c Release --project client/Cluster.Cli --)
  bench=(dotnet run --no-build -c Release --project tests/Cluster.Benchmarks --)
fi
cli() { "${console[@]}" "$@"; }

models="$work/models"
"${silo[@]}" --write-demo-models "$models" >/dev/null

# graph_relu: x FP32 [2,4] -> Relu -> y, fixed shapes, served on GPUs only with cuda.cuda_graph (ONNX protobuf written by hand).
mkdir -p "$models/graph_relu/1"
echo '{"max_batch_size": 0, "device_kinds": ["cuda"], "cuda": {"cuda_graph": true}}' >"$models/graph_relu/config.json"
python3 - "$models/graph_relu/1/model.onnx" <<'PY'
import sys
def varint(n):
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out
def message(number, payload): return varint(number << 3 | 2) + varint(len(payload)) + payload
def integer(number, value): return varint(number << 3) + varint(value)
def text(number, value): return message(number, value.encode())
dims = message(2, b"".join(message(1, integer(1, d)) for d in (2, 4)))
tensor = message(1, integer(1, 1) + dims)
def value_info(name): return text(1, name) + message(2, tensor)
graph = message(1, text(1, "x") + text(2, "y") + text(4, "Relu")) + text(2, "graph_relu") \
    + message(11, value_info("x")) + message(12, value_info("y"))
open(sys.argv[1], "wb").write(integer(1, 8) + message(8, text(1, "") + integer(2, 17)) + message(7, graph))
PY

# Starts a silo serving the demo models with CUDA set to $1 and waits (up to 90 s) until its gateway answers.
start_silo() {
  Cluster__Devices__Cuda="$1" Cluster__ModelRepository="$models" Cluster__BundledModels="" \
    Cluster__StateDirectory="$work/state-$1" Logging__LogLevel__Default=Warning \
    "${silo[@]}" >"$work/silo-$1.log" 2>&1 &
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
    cli "$@" >"$dir/$2.json" 2>"$dir/$2.err" || { rm -f "$dir/$2.json"; problem "inference of $2 failed: $(tail -1 "$dir/$2.err")"; }
  done <"$dir/commands"
}

echo "checking the GPU silo" >&2
start_silo auto
for model in $(python3 -c 'import json,sys; print(" ".join(m["name"] for m in json.load(open(sys.argv[1]))))' <(cli models --json)); do
  cli load "$model" >/dev/null 2>"$work/load.err" || problem "loading $model failed: $(tail -1 "$work/load.err")"
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
assert all(g.get("compute_capability") for g in gpus), "a GPU's compute capability is not from the driver"
PY
infer_all "$work/gpu"
# The CUDA graph is captured at warm-up; each request after replays it on inputs copied into the same device buffers.
mkdir -p "$work/graph"
for i in 1 2 3; do
  cli infer graph_relu --json --input "x=$i,-1,2,-$i,0.5,-0.5,$i,-2" --shape x=2x4 >"$work/graph/$i.json" 2>"$work/graph.err" \
    || { rm -f "$work/graph/$i.json"; problem "graph_relu inference $i failed: $(tail -1 "$work/graph.err")"; }
done
rm -f "$work/gpu/graph_relu.json"
rm -rf "$models/graph_relu"
stop_silo

echo "checking the CPU silo" >&2
start_silo none
infer_all "$work/cpu"
stop_silo

echo "batching benchmark on the GPU" >&2
rm -f artifacts/bench/batching.json
CLUSTER_BENCH_CUDA=auto timeout 240 "${bench[@]}" batching --seconds 5 --sweep-seconds 2 --warmup-seconds 1 \
  >"$work/bench.log" 2>&1 || { tail -20 "$work/bench.log" >&2; problem "batching benchmark failed"; }

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def read(*path):
    full = os.path.join(work, *path)
    return json.load(open(full)) if os.path.exists(full) else None
def answers(side):
    return {f[:-5] for f in os.listdir(os.path.join(work, side)) if f.endswith(".json") and f != "models.json"}
problems_file = os.path.join(work, "problems")
problems = open(problems_file).read().splitlines() if os.path.exists(problems_file) else []
differences = {}
for name in sorted(answers("gpu") | answers("cpu")):
    gpu, cpu = read("gpu", name + ".json"), read("cpu", name + ".json")
    if gpu is None or cpu is None:
        differences[name] = "no answer on the " + ("GPU" if gpu is None else "CPU")
        continue
    cpu_outputs = {o["name"]: o for o in cpu["outputs"]}
    worst = 0.0
    for out in gpu["outputs"]:
        for a, b in zip(out["data"], cpu_outputs[out["name"]]["data"]):
            try:
                worst = max(worst, abs(float(a) - float(b)))
            except ValueError:
                worst = worst if a == b else float("inf")
    differences[name] = worst if worst != float("inf") else "non-numeric outputs differ"
devices = [d["status"] for d in read("devices.json") if d["status"]["kind"] == "cuda"]
gpus = [{"device": d["key"], "memory_total_bytes": d["memory_total_bytes"], "compute_capability": d.get("compute_capability"),
         "loaded": d["loaded_models"]} for d in devices]
graph = {}
for i in (1, 2, 3):
    answer = read("graph", f"{i}.json")
    if answer is None:
        graph[str(i)] = "no answer"
        continue
    expected = [max(0.0, v) for v in (i, -1, 2, -i, 0.5, -0.5, i, -2)]
    graph[str(i)] = max(abs(float(a) - b) for a, b in zip(answer["outputs"][0]["data"], expected))
bench = json.load(open("artifacts/bench/batching.json")) if os.path.exists("artifacts/bench/batching.json") else None
ok = not problems and all(isinstance(d, float) and d <= 1e-3 for d in differences.values()) and all(d == 0 for d in graph.values()) \
    and bench is not None
print(json.dumps({"ok": ok, "problems": problems, "gpus": gpus, "cuda_graph_max_abs_difference": graph, "max_abs_difference": differences,
                  "tolerance": 1e-3, "batching": bench.get("summary", bench) if bench else None}))
sys.exit(0 if ok else 1)
PY
