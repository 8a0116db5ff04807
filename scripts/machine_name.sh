#!/usr/bin/env bash
# Prints the results/ directory name of this machine: OS, CPU family and core
# count, e.g. debian12-epyc-2vcpu or debian12-xeon-2vcpu. Every script that
# writes results/<machine>/ takes its default from here.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/os-release
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
case $cpu in
  *EPYC*) cpu=epyc ;;
  *Xeon*) cpu=xeon ;;
  *) cpu=$(echo "$cpu" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | cut -c1-20 | sed 's/-$//') ;;
esac
echo "${ID}${VERSION_ID%%.*}-${cpu:-cpu}-$(nproc)vcpu"
