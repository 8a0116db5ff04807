#!/usr/bin/env bash
# Prints the results/ directory name of this machine: OS, CPU family and core
# count, e.g. debian12-epyc-2vcpu or debian12-xeon-2vcpu. Every script that
# writes results/<machine>/ takes its default from here.
#
#   scripts/machine_name.sh --check NAME
#
# is the one check of a --machine NAME (measure.sh, bench_tape_peers.sh,
# crosslang.py, cachesim.py): a plain directory name of
# letters, digits, '.', '_' and '-' that does not start with '.' or '-', so
# never '.', '..', a hidden directory or an option. Exit 0 if NAME is one;
# else the reason on stdout (one line, for the caller's message) and exit 2.
set -euo pipefail
if [[ ${1:-} == --check ]]; then
  (($# == 2)) || {
    echo "usage: machine_name.sh --check NAME"
    exit 2
  }
  [[ $2 =~ ^[A-Za-z0-9_][A-Za-z0-9._-]*$ ]] && exit 0
  echo "'${2//$'\n'/\\n}' is not a plain directory name (letters, digits, '.', '_', '-'; not starting with '.' or '-')"
  exit 2
fi
# shellcheck source=/dev/null
. /etc/os-release
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
case $cpu in
  *EPYC*) cpu=epyc ;;
  *Xeon*) cpu=xeon ;;
  *) cpu=$(echo "$cpu" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | cut -c1-20 | sed 's/-$//') ;;
esac
echo "${ID}${VERSION_ID%%.*}-${cpu:-cpu}-$(nproc)vcpu"
