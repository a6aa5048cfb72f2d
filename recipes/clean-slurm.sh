#!/usr/bin/env bash
# Sharded clean as Slurm job arrays, one array per stage, each waiting for the one before:
#   recipes/clean-slurm.sh /shared/corpus.jsonl /shared/work 64 [clean flags…]
# /shared must be mounted on every node (NFS, Lustre, or an object store through a FUSE mount).
# Array task i runs shard i; a failed task is resubmitted alone (`scontrol requeue JOBID_i`), and a
# task whose output exists returns at once, so the whole script can also simply be run again.
set -euo pipefail
input=$1 work=$2 n=$3
shift 3
kit=${KIT:-npx deepseek-kit}
last=$((n - 1))
opts=(--parsable --cpus-per-task=1 --mem=4G --time=04:00:00)

$kit clean stage plan --in "$input" --work "$work" --shard "0/$n" "$@"
dep=()
for stage in sign exact buckets verify; do
  id=$(sbatch "${opts[@]}" "${dep[@]}" --job-name="clean-$stage" --array="0-$last" \
    --wrap="$kit clean stage $stage --work '$work' --shard \$SLURM_ARRAY_TASK_ID/$n")
  dep=(--dependency="afterok:$id")
done
id=$(sbatch "${opts[@]}" "${dep[@]}" --job-name=clean-resolve --mem=16G \
  --wrap="$kit clean stage resolve --work '$work' --shard 0/$n")
sbatch "${opts[@]}" --dependency="afterok:$id" --job-name=clean-write --array="0-$last" \
  --wrap="$kit clean stage write --work '$work' --shard \$SLURM_ARRAY_TASK_ID/$n"
