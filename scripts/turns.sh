#!/usr/bin/env bash
# scripts/turns.sh N CMD1 CMD2 …: the commands run N times each, taking turns (after three
# warm-up rounds), so that the drift of a shared machine hits them alike; prints each
# one's median wall time in ms (bash's EPOCHREALTIME). Commands are split on spaces.
n=$1; shift
declare -A times
for c in "$@"; do times["$c"]=""; done
for ((i = 0; i < 3; i++)); do for c in "$@"; do $c > /dev/null 2>&1; done; done
for ((i = 0; i < n; i++)); do
  for c in "$@"; do
    s=$EPOCHREALTIME; $c > /dev/null 2>&1; e=$EPOCHREALTIME
    times["$c"]+="$(echo "($e - $s) * 1000" | bc -l) "
  done
done
for c in "$@"; do
  med=$(echo ${times["$c"]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf "%8.1f ms  %s\n" "$med" "$c"
done
