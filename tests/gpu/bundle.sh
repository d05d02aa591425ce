#!/usr/bin/env bash
# Packs everything tests/gpu/run.sh and the benchmarks need for a GPU machine that has neither the .NET SDK nor a
# package feed: the published silo, console and benchmark (linux-x64), the .NET runtime they run on, redis-server when
# this machine has it, and ONNX Runtime's CUDA provider with only the kernels of the target GPU's architecture kept
# (tests/gpu/slim_fatbin.py). Writes <out>/bundle.tar.xz.part-aa, -ab, ... (each at most 55 MiB, for copies limited
# in size); tests/gpu/run-bundle.sh unpacks them there and runs the check or a benchmark.
# Usage: tests/gpu/bundle.sh [out-dir, default artifacts/gpu-bundle] [architecture to keep, default 90 (Hopper)]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-artifacts/gpu-bundle}
arch=${2:-90}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for app in silo:silo/Cluster.Silo cli:client/Cluster.Cli bench:tests/Cluster.Benchmarks; do
  echo "publishing ${app#*:}" >&2
  dotnet publish "${app#*:}" -c Release -r linux-x64 --self-contained false -o "$stage/bundle/${app%%:*}" -v q -nologo >&2
  rm -rf "$stage/bundle/${app%%:*}/models"  # the bundled pretrained models (90 MB each): the check serves the demo models only
done

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
echo "copying the .NET runtime from $dotnet_root" >&2
mkdir -p "$stage/bundle/dotnet/shared"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$stage/bundle/dotnet/"
cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$stage/bundle/dotnet/shared/"

for provider in "$stage"/bundle/*/libonnxruntime_providers_cuda.so; do
  echo "keeping sm_$arch code only in $provider" >&2
  python3 tests/gpu/slim_fatbin.py "$provider" --keep "$arch" >&2
done
# redis-server, which the edge and placement benchmarks cluster through, with the libraries a base image may lack.
if command -v redis-server >/dev/null; then
  mkdir -p "$stage/bundle/redis"
  cp -L "$(command -v redis-server)" "$stage/bundle/redis/"
  ldd "$(command -v redis-server)" | awk '/=> \// {print $3}' | grep -E 'liblzf|libjemalloc|libatomic' | xargs -r cp -L -t "$stage/bundle/redis/"
fi
hardlink -c -q "$stage/bundle" >&2  # the apps share most files; tar then stores each once

mkdir -p "$out"
rm -f "$out"/bundle.tar.xz.part-*
echo "compressing" >&2
tar -C "$stage" -cf - bundle | xz -T0 -6 | split -b 55M - "$out/bundle.tar.xz.part-"
ls -l "$out"/bundle.tar.xz.part-* >&2
