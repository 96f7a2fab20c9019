#!/usr/bin/env bash
# Runs peft4j's JMH micro-benchmarks (bench module, test scope; `mvn verify` only compiles them).
# Usage: bash scripts/bench/jmh.sh [JMH arguments: a benchmark regex, -p name=v1,v2, -f 1, -wi 2, -i 3, -rf json ...]
#   bash scripts/bench/jmh.sh DequantKernelBenchmark -p type=NF4
#   bash scripts/bench/jmh.sh LoraForwardBenchmark -p r=8,64
# With no arguments every benchmark runs (about 2 minutes). JMH prints its own results table to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file=bench/target/jmh.classpath
# reactor build of bench and the modules it uses; the classpath of its test scope (JMH, the peft4j modules' classes)
mvn -q -B test-compile dependency:build-classpath -pl bench -am -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/$cp_file" >&2
exec java -Dai.djl.offline=true -cp "bench/target/test-classes:bench/target/classes:$(cat "$cp_file")" \
    org.openjdk.jmh.Main "$@"
