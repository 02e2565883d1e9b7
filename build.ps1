#!/usr/bin/env pwsh
# The one entry point: dotnet tool restore && dotnet pwsh ./build.ps1 <target>
#   build   compile everything (warnings are errors)
#   test    install what the tests need from the system (apt, PostgreSQL included), build, check formatting, run every test project
#   run     the embedded default: one node with every role, SQLite, four 1 GiB drives under ./.shoal, volume demo
#           (mirror:2) at nbd://127.0.0.1:10809/demo, REST at http://127.0.0.1:8080/api/v1, GUI at http://127.0.0.1:8080/
#   bench   fio against shoal, shoal-mirror2, nbdkit and qemu-nbd (bench/results/latest.json, docs/benchmarks.md), then
#           copyset against random placement on a simulated 100,000-node cluster (bench/results/placement.json and the
#           placement section of docs/benchmarks.md); 'bench -Only datapath' or 'bench -Only placement' runs one of them,
#           and the remaining arguments go to that one (to the data-path harness when both run)
#   faults  the whole fault matrix across hosts (each node in its own network namespace; root): partitions, Akka
#           minority, journal outage, drive full, corruption at rest, kill -9 of everything; writes the table of
#           docs/reliability.md. 'test' runs only its short subset (trait Faults=subset); -Filter narrows it further
#   format  dotnet format (use 'format -Verify' to check only)
param(
    [Parameter(Position = 0)][ValidateSet('build', 'test', 'run', 'bench', 'faults', 'format')][string]$Target = 'build',
    [string]$Configuration = 'Release',
    [string]$Filter = '',
    [switch]$Verify,
    [ValidateSet('', 'datapath', 'placement')][string]$Only = '',
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
Set-Location $root
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native([string]$File, [string[]]$Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# System packages the tests and benchmarks drive for real. Installed when missing (we run as root).
function Install-SystemPackages {
    # pg_ctlcluster: the control plane's multi-node tests run their journal on a real PostgreSQL 15.
    # fusermount3 (fuse3, which brings libfuse3.so.3), mkfs.ext4 and fsck.ext4 (e2fsprogs), losetup (mount): the attach
    # helper's test makes a loop device over a FUSE file and an ext4 file system on it; gcc and libfuse3-dev's headers
    # check the helper's P/Invoke layouts. ip, iptables: the fault matrix puts each node in a network namespace and cuts
    # links with iptables.
    $needed = @{ 'fio' = 'fio'; 'nbdkit' = 'nbdkit'; 'nbdinfo' = 'libnbd-bin'; 'nbdcopy' = 'libnbd-bin'; 'qemu-nbd' = 'qemu-utils'; 'pg_ctlcluster' = 'postgresql'; 'chromium' = 'chromium'; 'fusermount3' = 'fuse3'; 'mkfs.ext4' = 'e2fsprogs'; 'fsck.ext4' = 'e2fsprogs'; 'losetup' = 'mount'; 'gcc' = 'gcc'; 'ip' = 'iproute2'; 'iptables' = 'iptables' }
    $missing = @($needed.Keys | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) } | ForEach-Object { $needed[$_] })
    if (-not (Test-Path '/usr/include/fuse3/fuse.h')) { $missing += 'libfuse3-dev' }
    $missing = @($missing | Sort-Object -Unique)
    if ($missing.Count -eq 0) { return }
    if ((id -u) -ne '0') { throw "missing system packages ($($missing -join ', ')) and not root: install them with apt-get" }
    Write-Host "installing system packages: $($missing -join ', ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native 'apt-get' @('update', '-qq')
    Invoke-Native 'apt-get' (@('install', '-y', '-qq') + $missing)
}

function Invoke-Build {
    Invoke-Native 'dotnet' @('build', 'shoal.slnx', '-c', $Configuration, '--nologo', '-v', 'minimal')
}

function Invoke-Tests {
    Install-SystemPackages
    Invoke-Build
    # House style is part of passing: the tree must already be formatted.
    Invoke-Native 'dotnet' @('format', 'shoal.slnx', '--verify-no-changes')
    $projects = @('tests/Cluster.DataPath.Tests/Cluster.DataPath.Tests.csproj', 'tests/Cluster.Actors.Tests/Cluster.Actors.Tests.csproj', 'tests/Cluster.Integration.Tests/Cluster.Integration.Tests.csproj', 'tests/Cluster.Browser.Tests/Cluster.Browser.Tests.csproj')
    $passed = 0; $failed = 0; $skipped = 0; $exit = 0
    foreach ($p in $projects) {
        $testArgs = @('test', $p, '-c', $Configuration, '--no-build', '--nologo', '--logger', 'console;verbosity=normal')
        # The fault matrix's long rows run only under 'faults'; its short subset runs here.
        $testArgs += @('--filter', $(if ($Filter) { "($Filter)&Faults!=matrix" } else { 'Faults!=matrix' }))
        $output = & dotnet @testArgs 2>&1 | ForEach-Object { Write-Host $_; "$_" }
        if ($LASTEXITCODE -ne 0) { $exit = 1 }
        # The console logger's summary: 'Total tests: N' then '     Passed: N', '     Failed: N', '    Skipped: N'.
        foreach ($line in $output) {
            if ("$line" -match '^\s+Passed:\s+(\d+)\s*$') { $passed += [int]$Matches[1] }
            elseif ("$line" -match '^\s+Failed:\s+(\d+)\s*$') { $failed += [int]$Matches[1] }
            elseif ("$line" -match '^\s+Skipped:\s+(\d+)\s*$') { $skipped += [int]$Matches[1] }
        }
    }
    if ($skipped -gt 0) { Write-Host "tests: $skipped skipped — a skipped test is a failure here"; $exit = 1 }
    Write-Host "tests: $passed passed, $failed failed"
    if ($passed -eq 0) { Write-Host 'no test ran'; $exit = 1 }
    exit $exit
}

# Runs every row of the fault matrix (one at a time: each builds its namespaces and cluster), then renders the rows'
# outcomes and measured times to heal between the markers of docs/reliability.md. Exits non-zero when a row failed.
function Invoke-Faults {
    Install-SystemPackages
    Invoke-Build
    $results = Join-Path ([IO.Path]::GetTempPath()) "shf-results-$PID.jsonl"
    Remove-Item $results -ErrorAction SilentlyContinue
    $env:SHOAL_FAULTS_RESULTS = $results
    # (PowerShell names are case-insensitive: a local $filter would be $Filter.)
    $rowFilter = 'Faults=subset|Faults=matrix'
    if ($Filter) { $rowFilter = "($rowFilter)&($Filter)" }
    & dotnet test 'tests/Cluster.Integration.Tests/Cluster.Integration.Tests.csproj' -c $Configuration --no-build --nologo --filter $rowFilter --logger 'console;verbosity=detailed'
    $exit = $LASTEXITCODE
    Remove-Item Env:SHOAL_FAULTS_RESULTS
    Write-FaultTable $results (Join-Path $root 'docs/reliability.md')
    exit $exit
}

# Renders the rows a fault-matrix run appended to $Results (JSON lines) between the markers of $Doc.
function Write-FaultTable([string]$Results, [string]$Doc) {
    $rows = @(if (Test-Path $Results) { Get-Content $Results | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json } })
    if ($rows.Count -eq 0) { throw 'the fault matrix recorded no row' }
    $cell = { param([string]$Text) ($Text -replace '\|', '\|' -replace '\r?\n', ' ') }
    $lines = @(
        "Measured $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC, commit $(git rev-parse --short HEAD), $([Environment]::ProcessorCount) cores, with:",
        '',
        '```',
        "dotnet pwsh ./build.ps1 faults$(if ($Filter) { " -Filter '$Filter'" })",
        '```',
        '',
        '| row | what was done | result | time to heal | notes |',
        '| --- | --- | --- | --- | --- |')
    foreach ($r in ($rows | Sort-Object row)) {
        $heal = if ($null -ne $r.healSeconds) { '{0:0.0} s' -f $r.healSeconds } else { '—' }
        $result = if ($r.result -eq 'pass') { 'pass' } else { "**FAIL**: $(& $cell $r.error)" }
        $lines += "| $(& $cell $r.row) | $(& $cell $r.done) | $result | $heal | $(& $cell $r.notes) |"
    }
    $text = Get-Content $Doc -Raw
    $begin = '<!-- faults:begin -->'; $end = '<!-- faults:end -->'
    $at = $text.IndexOf($begin); $until = $text.IndexOf($end)
    if ($at -lt 0 -or $until -lt $at) { throw "docs/reliability.md has no $begin ... $end section" }
    $text = $text.Substring(0, $at + $begin.Length) + "`n" + ($lines -join "`n") + "`n" + $text.Substring($until)
    Set-Content -Path $Doc -Value $text -NoNewline
    Write-Host "fault matrix: $(@($rows | Where-Object result -eq 'pass').Count) of $($rows.Count) rows passed; $Doc updated"
}

switch ($Target) {
    'build' { Invoke-Build }
    'faults' { Invoke-Faults }
    'test' { Invoke-Tests }
    'run' {
        Invoke-Native 'dotnet' @('build', 'Cluster.Host/Cluster.Host.csproj', '-c', $Configuration, '--nologo', '-v', 'quiet')
        & dotnet "Cluster.Host/bin/$Configuration/net10.0/shoal.dll" run --dir (Join-Path $root '.shoal') @Rest
        exit $LASTEXITCODE
    }
    'bench' {
        if ($Only -ne 'placement') {
            Install-SystemPackages
            Invoke-Native 'dotnet' @('build', 'Cluster.Host/Cluster.Host.csproj', '-c', 'Release', '--nologo', '-v', 'quiet')
            Invoke-Native 'dotnet' @('build', 'tests/Cluster.Bench/Cluster.Bench.csproj', '-c', 'Release', '--nologo', '-v', 'quiet')
            Invoke-Native 'dotnet' (@("tests/Cluster.Bench/bin/Release/net10.0/Shoal.Bench.dll", '--repo', $root) + $Rest)
        }
        if ($Only -ne 'datapath') {
            # In-process and CPU-only (no system packages): it rewrites just its own section of docs/benchmarks.md,
            # which the data-path harness above carries over when it rewrites the rest.
            Invoke-Native 'dotnet' @('build', 'tests/Cluster.Placement.Bench/Cluster.Placement.Bench.csproj', '-c', 'Release', '--nologo', '-v', 'quiet')
            $placementArgs = @('--out-json', (Join-Path $root 'bench/results/placement.json'), '--markdown', (Join-Path $root 'docs/benchmarks.md'))
            if ($Only -eq 'placement') { $placementArgs += $Rest }
            Invoke-Native 'dotnet' (@('tests/Cluster.Placement.Bench/bin/Release/net10.0/Shoal.Placement.Bench.dll') + $placementArgs)
        }
    }
    'format' {
        if ($Verify) { Invoke-Native 'dotnet' @('format', 'shoal.slnx', '--verify-no-changes') }
        else { Invoke-Native 'dotnet' @('format', 'shoal.slnx') }
    }
}
