#!/usr/bin/env bash
# Same bits: runs two builds of afmpi on the README's jobs and on the conformance suite's
# surveys, and compares every results file (CSV, Parquet, JSON, and the HTML report) byte for byte. For a change
# that must not change behaviour (a refactoring): build the old commit's binary, keep it,
# build the new one, and compare.
#
#   git stash; cargo build; cp target/debug/afmpi /tmp/afmpi-before; git stash pop
#   cargo build
#   bash scripts/same-bits.sh /tmp/afmpi-before target/debug/afmpi
#
# The conformance surveys are read from ../shared (or $AFMPI_SHARED) when it is there.
# Exit code 1 when any file differs, naming it. Each job's results file, standard output,
# standard error and exit code are compared (some jobs are errors on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "usage: bash scripts/same-bits.sh OLD_AFMPI NEW_AFMPI (two afmpi binaries)" >&2
  exit 2
fi
before=$(realpath "$1")
after=$(realpath "$2")
shared=${AFMPI_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

example=(data/global-mpi.toml data/example.csv --round t --year year)
raw=(data/methodologies/global-mpi-2018.toml data/example_raw.csv)
jobs=(
  "run ${example[*]} -o {out}.csv"
  "run ${example[*]} -o {out}.parquet"
  "run ${example[*]} -o {out}.json"
  "run ${example[*]} --changes insequence --ci wald --level 0.9 -o {out}.csv"
  "run ${example[*]} --over area,region --cutoffs 1/3,40 -o {out}.csv"
  "run ${example[*]} --batch-rows 1000 -o {out}.csv"
  "run ${raw[*]} -o {out}.csv"
  "run data/methodologies/colombia-ipm.toml data/example_raw.csv -o {out}.csv"
  "report ${example[*]} -o {out}.html"
  "describe data/example_raw.csv"
  "simulate --rows 3000 --rounds 2 --seed 3 -o {out}.csv"
  "simulate --raw --rows 3000 -o {out}.parquet"
  "check data/methodologies/colombia-ipm.toml data/example_raw.csv"
  "sql data/global-mpi.toml --round t --year year --over area,region"
  "report ${raw[*]} -o {out}.html"
  "compare data/methodologies/global-mpi-2018.toml data/methodologies/global-mpi-2010.toml data/example_raw.csv -o {out}.csv"
)
# The SQL of every shipped methodology (the household rules among them).
for m in data/methodologies/*.toml; do jobs+=("sql $m"); done
if [ -d "$shared/data" ]; then
  design="--weight weight --psu psu --over area,region"
  jobs+=(
    "describe $shared/data/syn_cdta.dta"
    "describe $shared/data/syn_cdta.sav --columns area,region"
    "run data/global-mpi.toml $shared/data/syn_cdta.csv $design --strata stratum --round t --year year -o {out}.csv"
    "run data/global-mpi.toml $shared/data/syn_cdta.dta $design --strata stratum --round t --year year -o {out}.parquet"
    "run data/global-mpi.toml $shared/data/syn_cdta.sav $design --strata stratum --round t --year year -o {out}.json"
    "run data/global-mpi.toml $shared/data/ben_dhs17_18.csv $design --strata strata -o {out}.csv"
    "run data/global-mpi.toml $shared/data/ben_dhs17_18.dta $design --strata strata -o {out}.csv"
    "run data/global-mpi.toml $shared/data/benin_2006_2017.csv $design --strata strata --round t --year year -o {out}.csv"
  )
else
  echo "note: $shared not found: the conformance surveys are left out"
fi

# Errors: the message and the exit code are compared too.
jobs+=(
  "run data/global-mpi.toml data/example.csv --round t --year yaer -o {out}.csv"
  "run data/global-mpi.toml data/example.csv --strata psu -o {out}.csv"
  "check data/methodologies/colombia-ipm.toml data/example.csv"
)
# A Parquet survey of another shape.
"$after" simulate -o "$work/sim.parquet" --rows 5000 --rounds 2 --seed 7 > /dev/null
jobs+=("run data/global-mpi.toml $work/sim.parquet --round t --year year -o {out}.csv")

differ=0
mkdir -p "$work/out" "$work/before" "$work/after"
for i in "${!jobs[@]}"; do
  job=${jobs[$i]}
  ext=${job##*\{out\}}
  ext=${ext%% *}
  # Both builds write to the same path, which the summary names; the files are then
  # moved apart.
  args=${job//\{out\}/$work/out/job-$i}
  for side in before after; do
    bin=${!side}
    rc=0
    # shellcheck disable=SC2086
    "$bin" $args > "$work/out/job-$i.stdout" 2> "$work/out/job-$i.stderr" || rc=$?
    echo "$rc" > "$work/out/job-$i.rc"
    mv "$work/out/job-$i"* "$work/$side/"
  done
  same=1
  for part in "$ext" .stdout .stderr .rc; do
    if [ -e "$work/before/job-$i$part" ] || [ -e "$work/after/job-$i$part" ]; then
      cmp -s "$work/before/job-$i$part" "$work/after/job-$i$part" || same=0
    fi
  done
  if [ "$same" = 1 ]; then
    echo "same: $job"
  else
    echo "DIFFERENT: $job"; differ=1
  fi
done
exit $differ
