#!/usr/bin/env bash
# Runs README.md's "Submit to an existing cluster" commands for real: builds the spark module and its runtime jars as
# the README says, starts a Spark standalone cluster on this machine (a Master and 2 Workers as separate JVMs, 1 core
# each; io.peft4j.spark.StandaloneCluster, spark module test scope) whose SPARK_HOME/jars holds exactly Spark 4.2.0's
# own dependency jars (resolved from spark-sql_2.13's pom without peft4j's BOM, so Jackson 2.21.2 as in the Spark
# distribution), submits ManyAdaptersMain with spark-submit's main class (org.apache.spark.deploy.SparkSubmit: what
# bin/spark-submit runs) on two small tasks, then BatchInferenceMain over the two adapters, checks that both adapters
# and 4 generations were written, then stops the cluster (about 3 minutes on 2 busy cores).
# Usage: bash scripts/spark/submit-check.sh [MODEL]   (default: the SmolLM2 test model; any .gguf or HF folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
model=${1:-${PEFT4J_TEST_MODEL:-$HOME/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf}}
[ -e "$model" ] || { echo "error: no model at $model (pass one, or run scripts/fetch-test-models.sh)" >&2; exit 2; }
work=$(mktemp -d /tmp/peft4j-submit-check.XXXXXX)
echo "work folder: $work" >&2

# 1. README: the spark jar and the runtime classpath of the spark module (peft4j and its dependencies, no Spark)
mvn -o -B -q package dependency:build-classpath -pl spark -am -DskipTests -DincludeScope=runtime \
  -Dmdep.outputFile="$work/cp.txt" >&2
JARS=$(tr ':' ',' < "$work/cp.txt")

# 2. what a Spark 4.2.0 distribution's jars/ holds: spark-sql_2.13 with its own dependency versions
mkdir -p "$work/dist"
cat > "$work/dist/pom.xml" <<'POM'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>spark-dist</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId><version>4.2.0</version></dependency>
  </dependencies>
</project>
POM
mvn -o -B -q -f "$work/dist/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/dist.txt" >&2

# 3. the cluster, held while our file descriptor 3 stays open
flags() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$2"; }
spark_flags=$(flags spark.test.argLine spark/pom.xml)
mkfifo "$work/hold"
# shellcheck disable=SC2086
java $spark_flags -cp "spark/target/test-classes:$(cat "$work/dist.txt")" io.peft4j.spark.StandaloneCluster \
  "$work/cluster" 2 "$(cat "$work/dist.txt")" < "$work/hold" > "$work/cluster.out" 2>&1 &
cluster_pid=$!
exec 3> "$work/hold"
trap 'exec 3>&-; wait $cluster_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 180); do
  grep -q '^MASTER ' "$work/cluster.out" 2>/dev/null && break
  kill -0 $cluster_pid 2>/dev/null || { cat "$work/cluster.out" >&2; exit 1; }
  sleep 1
done
MASTER=$(sed -n 's/^MASTER //p' "$work/cluster.out")
SPARK_HOME=$(sed -n 's/^SPARK_HOME //p' "$work/cluster.out")
[ -n "$MASTER" ] || { echo "error: the cluster did not start" >&2; cat "$work/cluster.out" >&2; exit 1; }
echo "cluster: $MASTER, SPARK_HOME=$SPARK_HOME" >&2

# 4. records: two tasks, JSON Lines with a task column
for t in colors capitals; do
  for i in 1 2 3; do
    echo "{\"task\":\"$t\",\"instruction\":\"name $t number $i\",\"input\":\"\",\"output\":\"$t $i is fine\"}"
  done
done > "$work/records.jsonl"

# 5. README: spark-submit (bin/spark-submit runs this class with SPARK_HOME/jars on the classpath)
# shellcheck disable=SC2086
SPARK_LOCAL_IP=127.0.0.1 java $spark_flags -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit \
  --master "$MASTER" --class io.peft4j.spark.ManyAdaptersMain \
  --conf spark.executor.cores=1 --executor-memory 2g --jars "$JARS" spark/target/spark-0.1.0-SNAPSHOT.jar \
  --model "$model" --records "$work/records.jsonl" \
  --output "$work/adapters" --max-steps 2 --batch-size 2 --max-seq-len 64 --partitions 2 \
  --summary "$work/adapters-summary" > "$work/submit.out" 2> "$work/submit.err" \
  || { tail -40 "$work/submit.err" >&2; exit 1; }
cat "$work/submit.out"
for t in colors capitals; do
  [ -f "$work/adapters/$t/adapter_model.safetensors" ] && [ -f "$work/adapters/$t/adapter_config.json" ] \
    || { echo "error: no adapter for task $t" >&2; exit 1; }
done
ls "$work/adapters-summary"/*.json > /dev/null

# 6. README: batch inference over the adapters just trained, mixed adapters in one partition
for t in colors capitals colors __base__; do echo "{\"prompt\":\"name $t number 1\",\"adapter\":\"$t\"}"; done \
  > "$work/prompts.jsonl"
# shellcheck disable=SC2086
SPARK_LOCAL_IP=127.0.0.1 java $spark_flags -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit \
  --master "$MASTER" --class io.peft4j.spark.BatchInferenceMain \
  --conf spark.executor.cores=1 --executor-memory 2g --jars "$JARS" spark/target/spark-0.1.0-SNAPSHOT.jar \
  --model "$model" --prompts "$work/prompts.jsonl" --adapter-root "$work/adapters" --template chat \
  --max-new-tokens 8 --output "$work/generations" > "$work/infer.out" 2> "$work/infer.err" \
  || { tail -40 "$work/infer.err" >&2; exit 1; }
rows=$(cat "$work/generations"/part-*.json | grep -c '"generation"')
[ "$rows" = 4 ] || { echo "error: $rows generation rows, expected 4" >&2; exit 1; }
cat "$work/generations"/part-*.json
execs=$(find "$work/cluster" -path '*worker-*/app-*/*/stderr' | wc -l)
echo "ok: both adapters written under $work/adapters, 4 generations in $work/generations; $execs executor logs" \
  "under $work/cluster/worker-*/" >&2
