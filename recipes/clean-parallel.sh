#!/usr/bin/env bash
# Sharded clean on one machine (or several, with --sshloginfile) with GNU parallel.
#   recipes/clean-parallel.sh INPUT.jsonl WORK_DIR SHARDS [clean flags…]
# WORK_DIR must be on a filesystem every worker sees. Each stage is a separate job, so a failed one is
# re-run alone (`parallel --retries 2`); a stage whose output exists returns at once.
set -euo pipefail
input=$1 work=$2 n=$3
shift 3
kit=${KIT:-npx deepseek-kit}

$kit clean stage plan --in "$input" --work "$work" --shard "0/$n" "$@"
for stage in sign exact buckets verify; do
  seq 0 $((n - 1)) | parallel --halt now,fail=1 --retries 2 "$kit clean stage $stage --work '$work' --shard {}/$n"
done
$kit clean stage resolve --work "$work" --shard "0/$n"
seq 0 $((n - 1)) | parallel --halt now,fail=1 --retries 2 "$kit clean stage write --work '$work' --shard {}/$n"
echo "kept rows: $work/out/kept-*.jsonl (input order inside each shard; clean --workers merges them)" >&2
