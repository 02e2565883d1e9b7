#!/usr/bin/env bash
# Measures control-plane failover by hand (not part of the test run; results go in docs/failover.md):
# three nodes on loopback with the production wiring and shipped hocon/shoal.conf, kill -9 one, and time from a
# survivor: unreachable, downed, removed, and the first answer from one of the dead node's sharded entities.
#   usage: tests/Cluster.Actors.Tests/Hosting/measure-failover.sh [rounds]   (default 3; full log in $TMPDIR)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
rounds="${1:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A throwaway console app around FailoverProbe: the test project itself has no entry point of its own.
cat > "$work/measure-failover.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ServerGarbageCollection>false</ServerGarbageCollection>
    <ConcurrentGarbageCollection>false</ConcurrentGarbageCollection>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$repo/tests/Cluster.Actors.Tests/Cluster.Actors.Tests.csproj" />
  </ItemGroup>
</Project>
XML
echo 'return await Shoal.Actors.Tests.Hosting.FailoverProbe.MainAsync(args);' > "$work/Program.cs"

dotnet build "$work/measure-failover.csproj" -c Release --nologo -v quiet -o "$work/bin" >/dev/null
log="${TMPDIR:-/tmp}/shoal-failover-$(date +%Y%m%d-%H%M%S).log"
dotnet "$work/bin/measure-failover.dll" measure "$rounds" | tee "$log" | grep --line-buffered '^round'
echo "full log: $log"
