#!/usr/bin/env bash
# A three-silo fleet on this machine, for machines without a container engine: redis-server for
# membership and three silos with different metadata (aws/us-east-1 with a simulated H100,
# gcp/europe-west4 with a simulated L4, a CPU-only one), each on its own ports. Ctrl-C or SIGTERM
# stops every process it started and exits 0.
#
# Ports, from --base-port B: Redis B; silo n (1..3) uses B+10n (silo), +1 (gateway), +2 (gRPC),
# +3 (REST), +4 (metrics).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: deploy/local/fleet.sh [options]
  --base-port N   first of the ports used (default 7000; env FLEET_BASE_PORT); uses N .. N+34
  --silo-dir DIR  a built or published silo folder holding Cluster.Silo.dll (env FLEET_SILO_DIR);
                  default: `dotnet publish` the silo once into the log folder
  --models DIR    the model repository (default deploy/models; env FLEET_MODELS)
  --log-dir DIR   where each process logs (default a new temporary folder; env FLEET_LOG_DIR)
  --timeout S     seconds to wait for every silo to be ready (default 180; env FLEET_TIMEOUT)
USAGE
}

repo=$(cd "$(dirname "$0")/../.." && pwd)
base_port=${FLEET_BASE_PORT:-7000}
silo_dir=${FLEET_SILO_DIR:-}
models=${FLEET_MODELS:-$repo/deploy/models}
log_dir=${FLEET_LOG_DIR:-}
timeout=${FLEET_TIMEOUT:-180}

while [ $# -gt 0 ]; do
  case "$1" in
    --base-port) base_port=${2:?--base-port needs a value}; shift 2 ;;
    --silo-dir) silo_dir=${2:?--silo-dir needs a value}; shift 2 ;;
    --models) models=${2:?--models needs a value}; shift 2 ;;
    --log-dir) log_dir=${2:?--log-dir needs a value}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "fleet: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "fleet: $*" >&2; exit "${exit_code:-1}"; }

if ! [[ "$base_port" =~ ^[0-9]+$ ]] || [ "$base_port" -lt 1024 ] || [ "$base_port" -gt 65500 ]; then
  exit_code=2 die "--base-port '$base_port' must be a number from 1024 to 65500"
fi
for tool in redis-server dotnet curl; do
  command -v "$tool" >/dev/null 2>&1 || exit_code=3 die "'$tool' is not on PATH; install it first (Debian/Ubuntu: apt-get install redis-server curl; .NET 10 SDK or runtime for dotnet)"
done
[ -d "$models" ] || exit_code=2 die "model repository '$models' does not exist"
models=$(cd "$models" && pwd)
if [ -z "$log_dir" ]; then
  log_dir=$(mktemp -d -t fleet-XXXXXX)
fi
mkdir -p "$log_dir"

pids=()
stopped=0

# Stops every process this script started: silos first (they leave the cluster on SIGTERM), then Redis.
stop_all() {
  [ "$stopped" -eq 1 ] && return
  stopped=1
  local pid deadline
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + 20))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "fleet: process $pid did not stop within 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${redis_pid:-}" ]; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
}

on_signal() {
  trap - INT TERM
  echo "fleet: stopping"
  stop_all
  echo "fleet: stopped"
  exit 0
}
trap on_signal INT TERM
trap stop_all EXIT

# Answers 0 once something accepts TCP connections on the loopback port.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for offset in 0 10 11 12 13 14 20 21 22 23 24 30 31 32 33 34; do
  port_open $((base_port + offset)) && exit_code=2 die "port $((base_port + offset)) is in use; choose another --base-port"
done

if [ -z "$silo_dir" ]; then
  silo_dir="$log_dir/silo"
  echo "fleet: publishing the silo to $silo_dir"
  dotnet publish "$repo/silo/Cluster.Silo" -c Release -o "$silo_dir" >"$log_dir/publish.log" 2>&1 &
  pids+=($!)
  wait "${pids[0]}" || die "dotnet publish failed; see $log_dir/publish.log"
  pids=()
fi
[ -f "$silo_dir/Cluster.Silo.dll" ] || exit_code=2 die "no Cluster.Silo.dll in '$silo_dir'"

redis_port=$base_port
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$log_dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  port_open "$redis_port" && break
  kill -0 "$redis_pid" 2>/dev/null || die "redis-server exited; see $log_dir/redis.log"
  sleep 0.1
done
port_open "$redis_port" || die "redis-server did not listen on port $redis_port within 10 s"

names=(silo-aws silo-gcp silo-cpu)
# Per silo: metadata (cloud region zone accelerator speed cost_per_hour), then a simulated device
# (profile fixed-µs per-item-µs memory-MiB) or "-" for none.
metadata=(
  "aws us-east-1 us-east-1a sim:h100 4 12.29"
  "gcp europe-west4 europe-west4-a sim:l4 1.5 0.85"
  "onprem local rack-1 cpu 0.3 0.10"
)
devices=(
  "h100 300 5 81920"
  "l4 800 20 24576"
  "-"
)

start_silo() {
  local n=$1 name=${names[$1]} port=$((base_port + 10 * ($1 + 1)))
  local cloud region zone accelerator speed cost profile fixed per_item memory
  read -r cloud region zone accelerator speed cost <<<"${metadata[$n]}"
  local settings=(
    "DOTNET_GCgen0size=0x4000000"
    "Cluster__SiloName=$name"
    "Cluster__Clustering=Redis"
    "Cluster__RedisConnectionString=127.0.0.1:$redis_port"
    "Cluster__AdvertisedAddress=127.0.0.1"
    "Cluster__SiloPort=$port"
    "Cluster__GatewayPort=$((port + 1))"
    "Cluster__Edge__GrpcAddress=127.0.0.1:$((port + 2))"
    "Cluster__Edge__HttpAddress=127.0.0.1:$((port + 3))"
    "Cluster__MetricsAddress=127.0.0.1:$((port + 4))"
    "Cluster__ModelRepository=$models"
    "Cluster__Devices__Cuda=none"
    "Orleans__Metadata__cloud=$cloud"
    "Orleans__Metadata__region=$region"
    "Orleans__Metadata__zone=$zone"
    "Orleans__Metadata__accelerator=$accelerator"
    "Orleans__Metadata__speed=$speed"
    "Orleans__Metadata__cost_per_hour=$cost"
  )
  read -r profile fixed per_item memory <<<"${devices[$n]}"
  if [ "$profile" != "-" ]; then
    settings+=(
      "Cluster__Devices__Simulated__0__Profile=$profile"
      "Cluster__Devices__Simulated__0__FixedLatencyMicroseconds=$fixed"
      "Cluster__Devices__Simulated__0__PerItemMicroseconds=$per_item"
      "Cluster__Devices__Simulated__0__MemoryMiB=$memory"
    )
  fi
  (cd "$repo" && exec env "${settings[@]}" dotnet "$silo_dir/Cluster.Silo.dll") >"$log_dir/$name.log" 2>&1 &
  pids+=($!)
}

for n in 0 1 2; do
  start_silo "$n"
done

echo "fleet: waiting for ${#names[@]} silos (logs in $log_dir)"
deadline=$((SECONDS + timeout))
for n in 0 1 2; do
  http=$((base_port + 10 * (n + 1) + 3))
  until curl -fs -o /dev/null "http://127.0.0.1:$http/v2/health/ready"; do
    kill -0 "${pids[$n]}" 2>/dev/null || die "${names[$n]} exited; see $log_dir/${names[$n]}.log"
    [ "$SECONDS" -lt "$deadline" ] || die "${names[$n]} was not ready within $timeout s; see $log_dir/${names[$n]}.log"
    sleep 0.5
  done
done

echo "fleet: ready, ${#names[@]} silos clustering through Redis 127.0.0.1:$redis_port (pid $redis_pid)"
for n in 0 1 2; do
  port=$((base_port + 10 * (n + 1)))
  read -r cloud region _ accelerator _ <<<"${metadata[$n]}"
  echo "  ${names[$n]} $cloud/$region $accelerator: REST http://127.0.0.1:$((port + 3))" \
    "gRPC 127.0.0.1:$((port + 2)) metrics http://127.0.0.1:$((port + 4))/metrics gateway 127.0.0.1:$((port + 1)) (pid ${pids[$n]})"
done
echo "  console: dotnet run --project client/Cluster.Cli -- models --redis 127.0.0.1:$redis_port"
echo "fleet: Ctrl-C stops every process"

# Runs until a signal arrives (the trap then stops everything and exits 0) or a process dies.
wait -n "${pids[@]}" "$redis_pid" || true
echo "fleet: a process exited unexpectedly; stopping the others (logs in $log_dir)" >&2
exit 1
