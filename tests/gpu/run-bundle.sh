#!/usr/bin/env bash
# Runs the GPU check (tests/gpu/run.sh) or a benchmark on a GPU machine that has no .NET SDK and no package feed, from
# the parts that tests/gpu/bundle.sh made. Parts can arrive over several copies:
#   tests/gpu/run-bundle.sh stash DIR                keeps DIR's bundle.tar.xz.part-* in $GPU_BUNDLE_HOME
#                                                    (default /tmp/cluster-gpu)
#   tests/gpu/run-bundle.sh run [DIR]                stashes DIR too, unpacks every kept part and runs the GPU check
#   tests/gpu/run-bundle.sh bench [DIR] -- ARGS...   the same, then runs the benchmarks with ARGS (e.g. edge --seconds 1)
# Before either it puts the bundle's .NET runtime and redis-server on PATH and the CUDA 13 libraries ONNX Runtime's CUDA
# provider needs (the system's or a Python wheel's) on LD_LIBRARY_PATH, and prints what it found. Extra environment for
# run.sh (GPU_CHECK_LOGS, say) passes through.
set -euo pipefail
cd "$(dirname "$0")/../.."
home=${GPU_BUNDLE_HOME:-/tmp/cluster-gpu}
mode=${1:-}
[ "$mode" = stash ] || [ "$mode" = run ] || [ "$mode" = bench ] || { echo "usage: $0 stash DIR | run [DIR] | bench [DIR] -- ARGS..." >&2; exit 2; }
shift
dir=""
if [ $# -gt 0 ] && [ "$1" != -- ]; then dir=$1; shift; fi
[ "${1:-}" = -- ] && shift

mkdir -p "$home/parts"
if [ -n "$dir" ]; then
  compgen -G "$dir/bundle.tar.xz.part-*" >/dev/null || { echo "no bundle.tar.xz.part-* in $dir" >&2; exit 2; }
  cp "$dir"/bundle.tar.xz.part-* "$home/parts/"
fi
echo "parts kept: $(cd "$home/parts" && ls | tr '\n' ' ')" >&2
[ "$mode" = stash ] && exit 0

rm -rf "$home/bundle"
decompress() { if command -v xz >/dev/null; then xz -T0 -d; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)'; fi; }
cat "$home"/parts/bundle.tar.xz.part-* | decompress | tar -x -C "$home" || { echo "the parts do not make a whole bundle (one missing?)" >&2; exit 2; }

export DOTNET_ROOT="$home/bundle/dotnet" PATH="$home/bundle/dotnet:$home/bundle/redis:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
ldconfig -p 2>/dev/null | grep -q libicuuc || export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

libraries=$({ find /usr /opt /usr/local -xdev \( -name 'libcublasLt.so.13*' -o -name 'libcublas.so.13*' -o -name 'libcudart.so.13*' \
  -o -name 'libcurand.so.10*' -o -name 'libcudnn.so.9*' -o -name 'libcufft.so.1*' -o -name 'libnvrtc.so.13*' \) 2>/dev/null || true; } \
  | xargs -r -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${libraries}$home/bundle/redis:${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >&2
nvidia-smi -L >&2 || true
missing=$(ldd "$home/bundle/silo/libonnxruntime_providers_cuda.so" | grep 'not found' || true)
echo "CUDA provider's libraries not found: $(grep -c . <<<"$missing" || true)${missing:+$'\n'$missing}" >&2

if [ "$mode" = run ]; then
  CLUSTER_PREBUILT="$home/bundle" bash tests/gpu/run.sh
  exit
fi

# The benchmarks start silo processes from where a Release build puts the silo.
built=silo/Cluster.Silo/bin/Release/net10.0
if [ -f "$built/Cluster.Silo.dll" ]; then
  echo "the benchmarks' silo processes run the build already in $built" >&2
else
  mkdir -p "$built" && cp -a "$home/bundle/silo/." "$built/"
fi
dotnet "$home/bundle/bench/Cluster.Benchmarks.dll" "$@"
