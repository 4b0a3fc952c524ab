#!/usr/bin/env bash
# Times `afmpi run` against polars reading the same columns, on synthetic surveys of any
# size (fixed seed), and on the Benin files in ../shared when they are there.
#
#   bash scripts/bench.sh [ROWS ...]        default: 1000000 10000000
#   CENSUS=100000000 bash scripts/bench.sh  also a census-sized Parquet file, run without
#                                           PSUs (each person a unit), in batches
#   SHAPES="survey census" bash scripts/bench.sh
#                                           also the shapes of the field's largest jobs
#                                           (`afmpi simulate --shape`: NFHS-5's 2.8 million
#                                           persons in 30,000 PSUs over 707 districts;
#                                           Colombia's census of 44 million over 1,122
#                                           municipalities), their methodologies in
#                                           benches/shapes/; SHAPE_ROWS=N for another size,
#                                           SHAPE_LEVELS=N for N districts or municipalities
#                                           (many domains: 10000)
#
# Needs hyperfine for repeated timings (apt-get install hyperfine); without it each
# command is timed once with /usr/bin/time. Files go to ${BENCH_DIR:-/tmp/afmpi-bench}.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/afmpi-bench}
mkdir -p "$dir"
cargo build --release --quiet
cargo build --release --quiet --example read_columns
afmpi=target/release/afmpi
read_columns=target/release/examples/read_columns
# The columns afmpi reads, with the types it reads them as (:text for labels).
columns="d_cm d_nutr d_satt d_educ d_elct d_wtr d_sani d_hsg d_ckfl d_asst weight year"
columns="$columns strata:text psu:text area:text region:text t:text"

time_it() {
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 1 --runs "${RUNS:-5}" --style basic "$@"
  else
    for c in "$@"; do echo "\$ $c"; /usr/bin/time -f "%e s, %M KB peak" bash -c "$c > /dev/null"; done
  fi
}

peak() { /usr/bin/time -f "  peak memory: %M KB, %e s" "$@" > /dev/null; }

# Two commands run N times each, taking turns, so that the drift of a shared machine hits
# both alike; prints the median wall times (bash's own clock: no process is started to
# read it) and their ratio.
taking_turns() {
  local n=$1 first=$2 second=$3 times=() s e i
  for i in 1 2 3; do $first > /dev/null; $second > /dev/null; done
  for ((i = 0; i < n; i++)); do
    s=$EPOCHREALTIME; $first > /dev/null; e=$EPOCHREALTIME; times+=("1 $s $e")
    s=$EPOCHREALTIME; $second > /dev/null; e=$EPOCHREALTIME; times+=("2 $s $e")
  done
  printf '%s\n' "${times[@]}" | awk -v n="$n" '
    function median(v, k,   i, j, t) {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }
    { d = $3 - $2; if ($1 == 1) a[++na] = d; else b[++nb] = d }
    END {
      ma = median(a, na); mb = median(b, nb)
      printf "  medians of %d runs each: %.1f ms and %.1f ms, ratio %.3f\n", n, 1000 * ma, 1000 * mb, mb / ma
    }'
}

echo "machine: $(nproc) cores, $(grep 'model name' /proc/cpuinfo | head -1 | cut -d: -f2 | xargs)"
for rows in "${@:-1000000 10000000}"; do
  for ext in parquet csv; do
    f="$dir/survey-$rows.$ext"
    [ -f "$f" ] || "$afmpi" simulate --rows "$rows" -o "$f" > /dev/null
    echo "== $rows rows, $ext ($(du -h "$f" | cut -f1))"
    cols=$columns
    [ "$ext" = parquet ] && cols=${columns//:text/}
    time_it "$read_columns $f $cols" \
      "$afmpi run data/global-mpi.toml $f --round t --year year -o $dir/results.parquet --quiet"
    peak "$afmpi" run data/global-mpi.toml "$f" --round t --year year -o "$dir/results.parquet" --quiet
  done
done

# A shape: the read and the run taking turns (medians and their ratio), the peak memory
# of each, and where the run's time goes (--timings).
for shape in ${SHAPES:-}; do
  rows=${SHAPE_ROWS:-} levels=${SHAPE_LEVELS:-}
  f="$dir/shape-$shape${rows:+-$rows}${levels:+-levels-$levels}.parquet"
  [ -f "$f" ] || "$afmpi" simulate --shape "$shape" ${rows:+--rows "$rows"} ${levels:+--levels "$levels"} -o "$f" > /dev/null
  m=benches/shapes/$shape.toml
  case $shape in
    survey) cols="d_cm d_nutr d_satt d_educ d_elct d_wtr d_sani d_hsg d_ckfl d_asst weight strata psu area state district" ;;
    census) cols="d_logro d_analf d_inasis d_rezago d_primin d_trabinf d_desem d_informal d_salud d_accsalud d_agua d_excretas d_pisos d_paredes d_hacin area department municipality" ;;
  esac
  echo "== shape $shape: $f ($(du -h "$f" | cut -f1)), $m"
  taking_turns "${SHAPE_RUNS:-5}" "$read_columns $f $cols" \
    "$afmpi run $m $f -o $dir/shape-$shape.parquet --quiet"
  peak "$read_columns" "$f" $cols
  peak "$afmpi" run "$m" "$f" -o "$dir/shape-$shape.parquet" --quiet
  "$afmpi" run "$m" "$f" -o "$dir/shape-$shape.parquet" --quiet --timings 2>&1 | sed 's/^/  /'
done

if [ -n "${CENSUS:-}" ]; then
  f="$dir/survey-$CENSUS.parquet"
  [ -f "$f" ] || "$afmpi" simulate --rows "$CENSUS" -o "$f" > /dev/null
  sed '/^psu = "psu"/d' data/global-mpi.toml > "$dir/census.toml"
  # The same columns afmpi reads: the census methodology has no PSU column.
  census_columns=$(echo "${columns//:text/}" | sed 's/ psu / /')
  echo "== census: $CENSUS rows, Parquet ($(du -h "$f" | cut -f1)), no PSU column, in batches"
  RUNS=${CENSUS_RUNS:-3} time_it "$read_columns $f $census_columns" \
    "$afmpi run $dir/census.toml $f --round t --year year -o $dir/census.csv --quiet"
  peak "$read_columns" "$f" $census_columns
  peak "$afmpi" run "$dir/census.toml" "$f" --round t --year year -o "$dir/census.csv" --quiet
  echo "   one thread:"
  RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 peak "$afmpi" run "$dir/census.toml" "$f" --round t --year year -o "$dir/census.csv" --quiet
fi

if [ -f ../shared/data/ben_dhs17_18.csv ]; then
  m="$dir/gmpi-33.toml"
  sed -e 's/cutoffs = \[20, "1\/3", 50\]/cutoffs = [20, 33, 50]/' -e 's/^headline = "1\/3"/headline = 33/' \
    data/global-mpi.toml > "$m"
  echo "== Benin DHS 2017-18 (72,412 persons used) and 2006 + 2017-18 with changes"
  one_round="d_cm d_nutr d_satt d_educ d_elct d_wtr d_sani d_hsg d_ckfl d_asst weight"
  one_round="$one_round strata:text psu:text area:text region:text"
  time_it "$read_columns ../shared/data/ben_dhs17_18.csv $one_round" \
    "$afmpi run $m ../shared/data/ben_dhs17_18.csv -o $dir/ben.csv" \
    "$read_columns ../shared/data/benin_2006_2017.csv $columns" \
    "$afmpi run $m ../shared/data/benin_2006_2017.csv --round t --year year -o $dir/ben2.csv"
  echo "== cutoffs: 1 against 10 (Benin 2017-18), the two commands taking turns"
  taking_turns "${CUTOFF_RUNS:-100}" \
    "$afmpi run $m ../shared/data/ben_dhs17_18.csv --cutoffs 33 -o $dir/k1.csv" \
    "$afmpi run $m ../shared/data/ben_dhs17_18.csv --cutoffs 10,20,30,33,40,50,60,70,80,90 -o $dir/k10.csv"
fi
