#!/usr/bin/env bash
# The main job: set up, build, then train microgpt with every allocation policy
# (each run in a fresh process) and print the comparison table. Arguments go to
# bench_train after the defaults --allocator=all --repeat 3, and override them:
#   scripts/run.sh --repeat 5 --json out.json
#   scripts/run.sh --allocator=arena --repeat 1
#   scripts/run.sh --engine tape       (a tape engine has no policy: no default --allocator)
# Relative paths (--data, --json) are taken from where run.sh was started.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

allocator=(--allocator=all) repeat=(--repeat 3) args=()
# A relative path of the user's, made absolute: bench_train runs in the repository.
absolute() { [[ $1 == /* || $1 == - || -z $1 ]] && printf '%s\n' "$1" || printf '%s\n' "$PWD/$1"; }
while (($#)); do
  case $1 in
    --allocator | --allocator=*) allocator=() ;;
    --engine) [[ ${2:-} == graph ]] || allocator=() ;;
    --engine=*) [[ $1 == --engine=graph ]] || allocator=() ;;
    --repeat | --repeat=*) repeat=() ;;
  esac
  case $1 in
    --data | --json)
      args+=("$1")
      (($# >= 2)) && args+=("$(absolute "$2")") && shift
      ;;
    --data=* | --json=*) args+=("${1%%=*}=$(absolute "${1#*=}")") ;;
    *) args+=("$1") ;;
  esac
  shift
done

cd "$repo"
scripts/setup.sh
# The dataset: bench_train's location rule from the repository
# (../shared/data/names.txt, else data/names.txt) unless --data is given.
exec "${MGA_BUILD_DIR:-build}/bench_train" "${allocator[@]}" "${repeat[@]}" "${args[@]}"
