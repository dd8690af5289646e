#!/usr/bin/env bash
# Acceptance check for Ctrl-C (issue 14): interrupt `whatbreaks run scenarios/double-booking.yaml
# --variant fixed` with SIGINT at N random moments, the way a terminal and `timeout` do, and check each
# time: exit 130, no trial counted as failed in report.json, no process of the run left, no PostgreSQL
# data folder left.
#
#   bench/group-sigint.sh [N=10] [SEED=$RANDOM] [MAX_S=8]
#
# Each run is `setsid sh -c 'timeout --preserve-status -s INT T whatbreaks run …'` with T drawn from
# [0.5, MAX_S] s, in two modes (odd runs one, even runs the other):
#   group  plain `timeout`: it puts itself and whatbreaks in a process group of their own and signals
#          the whole group (kill(0, SIGINT)), as a terminal does on Ctrl-C;
#   child  `timeout --foreground`: SIGINT to whatbreaks alone.
# A run's processes are found by an environment mark every child inherits (WHATBREAKS_TEST_MARK), its
# PostgreSQL data folder in a TMPDIR of its own; nothing else on the machine is looked at.
# Needs a built whatbreaks (`npm run build`); runs the local environment unless WHATBREAKS_ENV says
# otherwise. Prints one line per run and a summary; exits 1 if any run broke a rule.
set -u
cd "$(dirname "$0")/.."
N=${1:-10}
SEED=${2:-$RANDOM}
MAX_S=${3:-8}
RANDOM=$SEED
WORK=$(mktemp -d "${TMPDIR:-/tmp}/whatbreaks-group-sigint-XXXXXX")
echo "seed $SEED, $N runs, T in [0.5, $MAX_S] s, runs in $WORK"
printf '%-4s %-6s %6s %6s %5s %-28s %s\n' run mode T/s took/s exit 'trials (pass/fail/unk/abort)' 'problems / notes'
bad=0
exit130=0
failed_trials=0
early=0
for ((i = 1; i <= N; i++)); do
  if ((i % 2)); then mode=group; fg=''; else mode=child; fg='--foreground'; fi
  r=$RANDOM # drawn here: a command substitution's subshell reseeds RANDOM
  t=$(awk -v r="$r" -v m="$MAX_S" 'BEGIN { printf "%.2f", 0.5 + (m - 0.5) * r / 32767 }')
  mark="WHATBREAKS_TEST_MARK=group-sigint-$SEED-$i-$$"
  run="$WORK/run-$i"
  # PostgreSQL runs as the `postgres` user when we are root: it must be able to reach its folder.
  mkdir -p "$run/tmp" && chmod 755 "$WORK" "$run" "$run/tmp"
  started=$(date +%s.%N)
  env "$mark" TMPDIR="$run/tmp" WHATBREAKS_ENV="${WHATBREAKS_ENV:-local}" NO_COLOR=1 \
    setsid --wait sh -c "timeout --preserve-status $fg -s INT $t node bin/whatbreaks.js run \
      scenarios/double-booking.yaml --variant fixed --out '$run/out'" >"$run/output.log" 2>&1
  code=$?
  elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  problems=()
  notes=()
  ((code == 130)) && exit130=$((exit130 + 1)) || problems+=("exit $code, expected 130")
  if [[ -f $run/out/report.json ]]; then
    counts=$(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const f = r.trials.filter((t) => t.verdict === "fail").length;
      const s = r.summary;
      console.log(`${r.trials.length} ${s.passed} ${Math.max(f, s.failed)} ${s.unknown} ${s.aborted ?? 0}`);' \
      "$run/out/report.json")
    read -r trials passed failed unknown aborted <<<"$counts"
    failed_trials=$((failed_trials + failed))
    ((failed == 0)) || problems+=("$failed trial(s) counted as failed")
  elif [[ ! -s $run/output.log ]]; then
    # The signal came before whatbreaks had printed anything or installed its handler (Node still
    # loading: seconds on a busy machine): the default action ended it, and it had started nothing.
    trials='-' passed='-' failed='-' unknown='-' aborted='-'
    notes+=("signalled before whatbreaks started")
    early=$((early + 1))
  else
    trials='-' passed='-' failed='-' unknown='-' aborted='-'
    problems+=("no report.json")
  fi
  sleep 0.2
  left=$(grep -lsaF "$mark" /proc/[0-9]*/environ | cut -d/ -f3 | tr '\n' ' ')
  [[ -z $left ]] || problems+=("processes left: $left")
  dirs=$(find "$run/tmp" -maxdepth 1 -name 'whatbreaks-pg-*' | tr '\n' ' ')
  [[ -z $dirs ]] || problems+=("data folders left: $dirs")
  grep -q 'tearing down .* failed' "$run/output.log" && problems+=("a cleanup failed")
  ((${#problems[@]})) && bad=$((bad + 1))
  printf '%-4s %-6s %6s %6s %5s %-28s %s\n' "$i" "$mode" "$t" "$elapsed" "$code" \
    "$trials ($passed/$failed/$unknown/$aborted)" "$(IFS=';'; echo "${problems[*]:-}${notes[*]:+(${notes[*]})}")"
done
echo "exit 130: $exit130/$N; trials counted as failed: $failed_trials; runs with a problem: $bad;" \
  "signalled before whatbreaks started: $early (seed $SEED)"
((bad == 0))
