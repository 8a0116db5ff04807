#!/usr/bin/env bash
# Times the tapes (bench_train --engine tape and tape-exact, at the default
# -O2 build and the opt-in -DMGA_NATIVE=ON build) side by side with a peer:
# enjector/microgpt-c's names demo (C, float, hand-written backward), built
# from a checkout you give, at -O2 and at -O3 -ffast-math -funroll-loops
# -march=native. Training time only, 1000 steps of microgpt's default shape,
# round-robin over the programs for several repetitions; the result goes
# atomically to results/<machine>/tape_vs_peers.json. The peer's code stays
# where it is: this script only compiles and runs it.
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench_tape_peers.sh PEER_DIR [--repeat N] [--steps N] [--machine NAME]
                           [--out FILE] [--data FILE]

PEER_DIR is a git checkout of https://github.com/enjector/microgpt-c (needs
src/microgpt.c, src/microgpt.h and demos/character-level/names/main.c).

  --repeat N     repetitions of each program, round-robin (default 5)
  --steps N      training steps for every program (default 1000)
  --machine NAME results/NAME/ (default: from the OS and CPU, e.g. debian12-epyc-2vcpu)
  --out FILE     the JSON file (default: results/<machine>/tape_vs_peers.json)
  --data FILE    names, one per line (default: \$MGA_DATA, else ../shared/data/names.txt)

Our programs come from build/ (default build, -O2 -ffp-contract=off) and
build-native/ (-DMGA_NATIVE=ON), configured and built here when needed.
The peer's names demo prints its training time with clock() to 10 ms; it is
compiled with a forced-include header (written here, no change to its files)
that makes its clock() a monotonic wall clock in microseconds and
CLOCKS_PER_SEC 1000, so the same line prints milliseconds to 10 us.
EOF
}

say() { echo "bench_tape_peers.sh: $*" >&2; }
die() {
  say "$1"
  exit "${2:-2}"
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peer="" repeat=5 steps=1000 machine="" out=""
data=${MGA_DATA:-$repo/../shared/data/names.txt}
while (($#)); do
  case $1 in
    -h | --help) usage && exit 0 ;;
    --repeat | --steps | --machine | --out | --data)
      (($# >= 2)) || die "$1 needs a value"
      case $1 in
        --repeat) repeat=$2 ;;
        --steps) steps=$2 ;;
        --machine) machine=$2 ;;
        --out) out=$2 ;;
        --data) data=$2 ;;
      esac
      shift 2
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [[ -z $peer ]] || die "one PEER_DIR only (see --help)"
      peer=$1
      shift
      ;;
  esac
done
[[ -n $peer ]] || {
  usage >&2
  exit 2
}
[[ -n $machine ]] || machine=$("$repo/scripts/machine_name.sh")
why=$("$repo/scripts/machine_name.sh" --check "$machine") || die "--machine: $why"
[[ $repeat =~ ^[1-9][0-9]{0,2}$ ]] || die "--repeat must be 1..999, not '$repeat'"
[[ $steps =~ ^[1-9][0-9]{0,6}$ ]] || die "--steps must be a positive number, not '$steps'"
for file in src/microgpt.c src/microgpt.h demos/character-level/names/main.c; do
  [[ -r $peer/$file ]] || die "$peer/$file not found: PEER_DIR must be a microgpt-c checkout"
done
peer=$(cd "$peer" && pwd)
peer_commit=$(git -C "$peer" rev-parse HEAD 2>/dev/null) || die "$peer is not a git checkout"
peer_dirty=false
[[ -z $(git -C "$peer" status --porcelain --untracked-files=no -- src demos/character-level/names) ]] ||
  peer_dirty=true
[[ -r $data ]] || die "dataset $data not found (give --data or set MGA_DATA)"
data=$(cd "$(dirname "$data")" && echo "$PWD/$(basename "$data")")
out=${out:-$repo/results/$machine/tape_vs_peers.json}
mkdir -p "$(dirname "$out")" || die "cannot create $(dirname "$out")"
[[ -w $(dirname "$out") ]] || die "cannot write to $(dirname "$out")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- our two builds ----
declare -A build_flags=([build]="" [build-native]="-DMGA_NATIVE=ON")
for dir in build build-native; do
  say "building bench_train in $dir/"
  # shellcheck disable=SC2086
  cmake -S "$repo" -B "$repo/$dir" -DCMAKE_BUILD_TYPE=Release ${build_flags[$dir]} >"$work/cmake.log" 2>&1 ||
    die "cmake -B $dir failed: $(tail -n 3 "$work/cmake.log")" 1
  cmake --build "$repo/$dir" -j 2 --target bench_train >>"$work/cmake.log" 2>&1 ||
    die "building $dir/bench_train failed: $(tail -n 3 "$work/cmake.log")" 1
done

# ---- the peer's two builds ----
cat >"$work/timing_shim.h" <<'EOF'
/* bench_tape_peers.sh: force-included before the peer's own code. clock()
   becomes a monotonic wall clock in microseconds and CLOCKS_PER_SEC 1000, so
   "(clock() - start) / CLOCKS_PER_SEC" is in milliseconds. */
#include <time.h>
static inline clock_t mga_wall_clock_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (clock_t)(now.tv_sec * 1000000L + now.tv_nsec / 1000);
}
#define clock() mga_wall_clock_us()
#undef CLOCKS_PER_SEC
#define CLOCKS_PER_SEC ((clock_t)1000)
EOF
cc=${CC:-cc}
defines="-DMICROGPT_USE_FLOAT=1 -DBATCH_SIZE=1 -DNUM_STEPS=$steps"
declare -A peer_flags=([O2]="-O2" [fast]="-O3 -ffast-math -funroll-loops -march=native")
for variant in O2 fast; do
  # shellcheck disable=SC2206 # the flags are words on purpose
  command=("$cc" -std=gnu99 ${peer_flags[$variant]} $defines -include "$work/timing_shim.h"
    -I "$peer/src" "$peer/src/microgpt.c" "$peer/demos/character-level/names/main.c"
    -o "$work/peer_$variant" -lm)
  say "building the peer: ${peer_flags[$variant]}"
  "${command[@]}" >"$work/peer_build.log" 2>&1 || die "building the peer failed: $(tail -n 3 "$work/peer_build.log")" 1
  recorded="${command[*]//$work\//}"
  printf '%s\n' "${recorded//$peer/PEER_DIR}" >"$work/peer_$variant.command"
done
mkdir -p "$work/peer_run"
ln -s "$data" "$work/peer_run/c_names.txt" # the demo reads c_names.txt from its directory

# ---- round-robin ----
programs=(tape:build tape-exact:build tape:build-native tape-exact:build-native peer:O2 peer:fast)
: >"$work/times.tsv"
for ((rep = 1; rep <= repeat; rep++)); do
  for program in "${programs[@]}"; do
    kind=${program%%:*} build=${program#*:}
    if [[ $kind == peer ]]; then
      (cd "$work/peer_run" && "$work/peer_$build" >"$work/out.txt" 2>&1) ||
        die "the peer ($build) failed: $(tail -n 3 "$work/out.txt")" 1
      ms=$(sed -n 's/^Training: \([0-9.]*\) s.*/\1/p' "$work/out.txt")
      [[ -n $ms ]] || die "the peer ($build) printed no 'Training: ... s' line" 1
      seconds=$(awk -v ms="$ms" 'BEGIN { printf "%.6f", ms / 1000 }')
    else
      "$repo/$build/bench_train" --engine "$kind" --steps "$steps" --quiet --data "$data" \
        --json "$work/run.json" >"$work/out.txt" 2>&1 ||
        die "bench_train --engine $kind ($build) failed: $(tail -n 3 "$work/out.txt")" 1
      seconds=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["repetitions"][0]["train_seconds"])' "$work/run.json")
    fi
    printf '%s\t%s\t%d\t%s\n' "$kind" "$build" "$rep" "$seconds" >>"$work/times.tsv"
    say "[$rep/$repeat] $kind ($build): $seconds s"
  done
done

# ---- the JSON, written atomically ----
python3 - "$work" "$out" "$repo" "$peer" "$peer_commit" "$peer_dirty" "$steps" "$repeat" "$data" "$machine" "$cc" "$defines" <<'EOF'
import json, os, platform, statistics, subprocess, sys, tempfile, time
work, out, repo, peer, peer_commit, peer_dirty, steps, repeat, data, machine, cc, defines = sys.argv[1:]

def first_line(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return ""

def stats(values):
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "cv": sd / mean if mean else 0.0, "values": values}

times = {}
for line in open(os.path.join(work, "times.tsv")):
    kind, build, rep, seconds = line.split("\t")
    times.setdefault((kind, build), []).append(float(seconds))

ours_build = {"build": "cmake -DCMAKE_BUILD_TYPE=Release: -O2 -ffp-contract=off",
              "build-native": "cmake -DCMAKE_BUILD_TYPE=Release -DMGA_NATIVE=ON: -O2 -ffp-contract=off -march=native"}
peer_build = {"O2": "-O2", "fast": "-O3 -ffast-math -funroll-loops -march=native"}
programs = []
for (kind, build), values in times.items():
    if kind == "peer":
        command = open(os.path.join(work, f"peer_{build}.command")).read().strip()
        programs.append({"name": f"enjector/microgpt-c {peer_build[build]}", "program": "peer",
                         "flags": peer_build[build], "command": command,
                         "run": "./peer in a directory whose c_names.txt is the dataset",
                         "train_seconds": stats(values)})
    else:
        programs.append({"name": f"bench_train --engine {kind} ({build}/)", "program": "bench_train",
                         "engine": kind, "flags": ours_build[build],
                         "command": f"{build}/bench_train --engine {kind} --steps {steps} --quiet --data DATA --json FILE",
                         "train_seconds": stats(values)})

def ratio(a, b):  # per round-robin pair, then the median of the pairs
    pairs = [x / y for x, y in zip(times[a], times[b])]
    return {"median": statistics.median(pairs), "min": min(pairs), "max": max(pairs)}

report = {
    "tool": "bench_tape_peers.sh", "schema": 1,
    "context": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine,
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), ""),
        "cores": os.cpu_count(), "kernel": platform.release(),
        "cxx": first_line("c++", "--version"), "cc": first_line(cc, "--version"),
        "git_commit": first_line("git", "-C", repo, "describe", "--always", "--dirty", "--abbrev=12"),
    },
    "config": {"steps": int(steps), "repetitions": int(repeat), "data": data,
               "model": "n_embd 16, n_head 4, n_layer 1, block_size 16, one document per step",
               "order": "round-robin: every program once per repetition, in the order listed"},
    "peer": {
        "repository": "https://github.com/enjector/microgpt-c", "commit": peer_commit,
        "modified_checkout": peer_dirty == "true",
        "program": "demos/character-level/names/main.c with src/microgpt.c",
        "defines": defines + " (float, one document per step as microgpt.py; the rest its defaults: "
                   "n_embd 16, n_head 4, n_layer 1, block_size 16, mlp 64)",
        "arithmetic": "float, hand-written backward, its own data order and initialisation "
                      "(not microgpt.py's bits)",
        "timing": "its own 'Training: X s' line, which spans its training loop; compiled with "
                  "-include timing_shim.h, which makes its clock() a CLOCK_MONOTONIC wall clock in "
                  "microseconds and CLOCKS_PER_SEC 1000, so X is milliseconds with 10 us resolution",
    },
    "ours": {"timing": "bench_train's train_seconds (steady_clock around the training loop, "
                       "printing included), from its --json"},
    "programs": programs,
    "ratios": {
        "tape (-O2) / peer -O2": ratio(("tape", "build"), ("peer", "O2")),
        "tape (native) / peer -O2": ratio(("tape", "build-native"), ("peer", "O2")),
        "tape (native) / peer -O3 -ffast-math -march=native": ratio(("tape", "build-native"), ("peer", "fast")),
        "tape-exact (-O2) / tape (-O2)": ratio(("tape-exact", "build"), ("tape", "build")),
    },
}
directory = os.path.dirname(os.path.abspath(out))
handle, temporary = tempfile.mkstemp(prefix=".tape_vs_peers.", dir=directory)
with os.fdopen(handle, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")
os.chmod(temporary, 0o644)
os.replace(temporary, out)
for p in programs:
    t = p["train_seconds"]
    print(f"{p['name']:60s} median {t['median']:.4f} s  min {t['min']:.4f}  max {t['max']:.4f}")
for name, r in report["ratios"].items():
    print(f"{name:60s} {r['median']:.2f}x (pairs {r['min']:.2f}-{r['max']:.2f})")
print(f"wrote {out}")
EOF
