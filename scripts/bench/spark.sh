#!/usr/bin/env bash
# Adapters per hour of the spark module's many-adapters job on a Spark standalone cluster of 1, then 2 Workers
# (1 core and one executor each) started on this machine, and each executor's memory (idle resident set, peak VmHWM).
# Prints one JSON object on stdout (io.peft4j.spark.StandaloneClusterBench, spark module test scope).
# Usage: bash scripts/bench/spark.sh [--model PATH] [--tasks 8] [--steps 10] [--batch-size 2] [--max-seq-len 64]
#                                    [--quantize none|nf4|fp4|int8] [--workers 1,2] [--executor-memory-gb 2]
#   bash scripts/bench/spark.sh --model ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf --tasks 8 --steps 10
# Without --model it trains on a tiny random model (measures the job's overhead, not training).
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file=spark/target/bench.classpath
# reactor build of spark and the modules it uses; the classpath of its test scope (Spark itself is provided scope)
mvn -o -q -B test-compile dependency:build-classpath -pl spark -am \
    -Dmdep.outputFile="$PWD/$cp_file" >&2
# the JVM flags the tests use: peft4j's (parent pom) and Spark's module openings on Java 17 (spark/pom.xml)
flags() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$2"; }
# shellcheck disable=SC2046
exec java $(flags peft4j.test.argLine pom.xml | sed 's/-XX:NativeMemoryTracking=summary//') \
    $(flags spark.test.argLine spark/pom.xml) -Xmx2g \
    -cp "spark/target/test-classes:spark/target/classes:$(cat "$cp_file")" \
    io.peft4j.spark.StandaloneClusterBench "$@"
