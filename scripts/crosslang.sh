#!/usr/bin/env bash
# Times the reference programs beside the C++ policies: Karpathy's microgpt.py
# under CPython, and microgpt.ts under Node (>= 23.6, which runs TypeScript by
# stripping types), Bun and Deno, whichever are installed. Each run happens in
# a fresh temporary directory whose input.txt is the dataset; its stdout is
# checked against the stored reference output, and its wall time and peak RSS
# (/usr/bin/time -v) go into a bench_train-format JSON (allocator = runtime,
# one repetition, no phase split) that scripts/compare.py reads.
set -euo pipefail

usage() {
  cat <<EOF
Usage: crosslang.sh PY_SCRIPT TS_SCRIPT [DATA]

Runs PY_SCRIPT (microgpt.py) with python3 and TS_SCRIPT (microgpt.ts) with each
of node (>= 23.6), bun and deno found on PATH; "-" skips a script. Missing
runtimes or scripts are skipped with a message.

  DATA        names.txt to train on (default: \$MGA_DATA, else ../shared/data/names.txt)

Environment:
  MGA_DATA           dataset when DATA is not given
  MGA_REFERENCE_DIR  reference outputs (default: ../shared/reference); the files
                     microgpt_py_seed42_steps1000.txt and microgpt_ts_seed42_steps1000.txt
  MGA_CROSSLANG_OUT  output JSON (default: results/crosslang.json), written atomically
  MGA_PYTHON         Python interpreter for PY_SCRIPT (default: python3)

Exit status: 0 when every attempted run succeeded (or all were skipped),
1 when a run failed or its output differs from the reference (such runs are
recorded with "reference": "differs"), 2 on bad arguments.
EOF
}

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  usage
  exit 0
fi
if (($# < 2 || $# > 3)); then
  usage >&2
  exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py_script=$1
ts_script=$2
data=${3:-${MGA_DATA:-$repo/../shared/data/names.txt}}
reference_dir=${MGA_REFERENCE_DIR:-$repo/../shared/reference}
out=${MGA_CROSSLANG_OUT:-$repo/results/crosslang.json}
python=${MGA_PYTHON:-python3}

say() { echo "crosslang.sh: $*" >&2; }
absolute() { (cd "$(dirname "$1")" && echo "$PWD/$(basename "$1")"); }

if [[ ! -r $data ]]; then
  say "dataset $data not found (pass DATA or set MGA_DATA)"
  exit 2
fi
data=$(absolute "$data")
if ! command -v "$python" >/dev/null; then
  say "$python not found; it also writes the JSON, so nothing can be recorded"
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
records=$work/records.tsv # one line per recorded run, turned into JSON at the end
: >"$records"
failures=0

# Both outputs with \r turned into line breaks (microgpt.py rewrites its step
# line with \r), trailing blanks cut and empty lines dropped, so only content counts.
normalize() { tr '\r' '\n' <"$1" | sed 's/[[:space:]]*$//' | grep -v '^$' || true; }

# run_one NAME VERSION REFERENCE COMMAND...: runs COMMAND in a fresh directory
# holding input.txt and appends its measurements to $records.
run_one() {
  local name=$1 version=$2 reference=$3
  shift 3
  local dir=$work/$name
  mkdir -p "$dir"
  cp "$data" "$dir/input.txt"
  say "running $name ($version): $*"
  local status=0 start end wall rss=""
  start=$(date +%s.%N)
  if [[ -x /usr/bin/time ]]; then
    (cd "$dir" && /usr/bin/time -v -o "$dir/time.txt" "$@" >"$dir/stdout.txt" 2>"$dir/stderr.txt") || status=$?
  else
    (cd "$dir" && "$@" >"$dir/stdout.txt" 2>"$dir/stderr.txt") || status=$?
  fi
  end=$(date +%s.%N)
  if ((status != 0)); then
    say "$name failed (exit $status); last lines of its stderr:"
    tail -n 5 "$dir/stderr.txt" >&2 || true
    failures=$((failures + 1))
    return
  fi
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }')
  # Wall time from date(1) (ns resolution; time -v prints hundredths), peak RSS from time -v.
  if [[ -s $dir/time.txt ]]; then
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir/time.txt")
  fi

  normalize "$dir/stdout.txt" >"$dir/normalized.txt"
  local match="no reference"
  if [[ -r $reference ]]; then
    normalize "$reference" >"$dir/reference.txt"
    if cmp -s "$dir/normalized.txt" "$dir/reference.txt"; then
      match="identical"
    else
      match="differs"
      failures=$((failures + 1)) # still recorded, marked "differs"
      say "$name: output DIFFERS from $(basename "$reference"); first difference:"
      diff "$dir/reference.txt" "$dir/normalized.txt" | head -n 4 >&2 || true
    fi
  else
    say "$name: no reference $reference; output not checked"
  fi
  # The last "step N / M | loss L" line gives the steps run and the final loss.
  local last_step steps loss
  last_step=$(grep -E '^step +[0-9]+ */ *[0-9]+ *\| *loss' "$dir/normalized.txt" | tail -n 1 || true)
  steps=$(sed -E -n 's/^step +([0-9]+).*/\1/p' <<<"$last_step")
  loss=$(sed -E -n 's/.*loss +([-0-9.eE+naif]+).*/\1/p' <<<"$last_step")
  if [[ -z $steps ]]; then
    say "$name: printed no 'step N / M | loss L' line; not recorded"
    failures=$((failures + 1))
    return
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "$wall" "${rss:-}" "$steps" "${loss:-}" "$match" >>"$records"
  say "$name: ${wall} s wall, ${rss:-?} KiB peak RSS, $steps steps, output $match"
}

# --- microgpt.py -------------------------------------------------------------
if [[ $py_script == - ]]; then
  say "no Python script given; skipping cpython"
elif [[ ! -r $py_script ]]; then
  say "$py_script not found; skipping cpython"
else
  py_version=$("$python" -c 'import platform; print(platform.python_implementation(), platform.python_version())')
  if [[ $py_version != CPython* ]]; then
    say "$python is $py_version, not CPython; recorded under its own name"
  fi
  run_name=${py_version%% *}
  run_name=${run_name,,}
  run_one "$run_name" "$py_version" "$reference_dir/microgpt_py_seed42_steps1000.txt" \
    "$python" "$(absolute "$py_script")"
fi

# --- microgpt.ts ---------------------------------------------------------------
# Node runs .ts files by stripping types from 23.6 on, without flags.
node_strips_types() {
  local major minor
  IFS=. read -r major minor _ <<<"${1#v}"
  ((major > 23 || (major == 23 && minor >= 6)))
}

if [[ $ts_script == - ]]; then
  say "no TypeScript script given; skipping node, bun and deno"
elif [[ ! -r $ts_script ]]; then
  say "$ts_script not found; skipping node, bun and deno"
else
  ts_path=$(absolute "$ts_script")
  ts_reference=$reference_dir/microgpt_ts_seed42_steps1000.txt
  if ! command -v node >/dev/null; then
    say "node not installed; skipping it"
  else
    node_version=$(node --version)
    if node_strips_types "$node_version"; then
      run_one node "Node.js $node_version" "$ts_reference" node "$ts_path"
    else
      say "node $node_version cannot run TypeScript directly (needs >= 23.6); skipping it"
    fi
  fi
  if command -v bun >/dev/null; then
    run_one bun "Bun $(bun --version)" "$ts_reference" bun run "$ts_path"
  else
    say "bun not installed; skipping it"
  fi
  if command -v deno >/dev/null; then
    deno_version=$(deno --version | sed -n 1p) # "deno 2.1.0 (stable, release, ...)"
    deno_version=${deno_version%% (*}
    run_one deno "${deno_version/deno/Deno}" "$ts_reference" deno run --allow-read --no-prompt "$ts_path"
  else
    say "deno not installed; skipping it"
  fi
fi

# --- the JSON ------------------------------------------------------------------
if [[ ! -s $records ]]; then
  say "nothing ran to completion; $out left unchanged"
  exit $((failures > 0 ? 1 : 0))
fi

mkdir -p "$(dirname "$out")"
git_commit=$(git -C "$repo" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
MGA_RECORDS=$records MGA_OUT=$out MGA_DATA_PATH=$data MGA_GIT_COMMIT=$git_commit "$python" - <<'EOF'
import json, os, platform, socket, time

def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

def number(text):
    try:
        return float(text)
    except ValueError:
        return None

runs = []
config_steps = None
with open(os.environ["MGA_RECORDS"]) as records:
    for line in records:
        name, version, wall, rss, steps, loss, match = line.rstrip("\n").split("\t")
        seconds, steps = float(wall), int(steps)
        config_steps = config_steps or steps
        repetition = {
            "train_seconds": seconds,
            "steps": steps,
            "ms_per_step": 1000 * seconds / steps,
            "peak_rss_kib": int(rss) if rss.isdigit() else None,
            "final_loss": number(loss),
            "reference": match,
        }
        runs.append({
            "allocator": name,
            "description": version,
            "timing": "wall time of the whole program: start-up, data loading, training, sampling",
            "train_seconds": {"median": seconds, "min": seconds, "max": seconds, "mean": seconds,
                              "stddev": 0, "cv": 0, "repetitions": 1},
            "repetitions": [repetition],
        })

with open(os.environ["MGA_DATA_PATH"], encoding="utf-8") as data:
    num_docs = sum(1 for line in data if line.strip())
document = {
    "tool": "bench_train",
    "schema": 1,
    "producer": "scripts/crosslang.sh",
    "context": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": socket.gethostname(),
        "kernel": f"{platform.system()} {platform.release()}",
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "git_commit": os.environ["MGA_GIT_COMMIT"],
    },
    "config": {"steps": config_steps, "data": os.environ["MGA_DATA_PATH"], "num_docs": num_docs},
    "runs": runs,
}
out = os.environ["MGA_OUT"]
temp = f"{out}.tmp.{os.getpid()}"
try:
    with open(temp, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
    os.replace(temp, out)
except BaseException:
    if os.path.exists(temp):
        os.unlink(temp)
    raise
EOF
say "wrote $out ($(wc -l <"$records") run(s))"
exit $((failures > 0 ? 1 : 0))
