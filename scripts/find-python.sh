#!/usr/bin/env bash
# Print the path of a CPython 3.13 interpreter (the Lambda runtime's version), or fail clearly.
# Looks at: $PYTHON313, python3.13 on PATH, pyenv's versions, uv's known interpreters.
set -euo pipefail
is_313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' 2>/dev/null; }
candidates=()
[ -n "${PYTHON313:-}" ] && candidates+=("$PYTHON313")
command -v python3.13 >/dev/null 2>&1 && candidates+=("$(command -v python3.13)")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for p in "$pyenv_root"/versions/3.13*/bin/python3.13; do [ -x "$p" ] && candidates+=("$p"); done
if command -v uv >/dev/null 2>&1; then
  found=$(UV_PYTHON_DOWNLOADS=never uv python find 3.13 2>/dev/null || true)
  [ -n "$found" ] && candidates+=("$found")
fi
for c in "${candidates[@]}"; do
  # A pyenv shim can exist without the version behind it: run it to be sure.
  if is_313 "$c"; then echo "$c"; exit 0; fi
done
echo "error: CPython 3.13 not found (Lambda runtime python3.13). Install it (e.g. 'pyenv install 3.13'," >&2
echo "       or your OS package python3.13) or set PYTHON313=/path/to/python3.13." >&2
exit 1
