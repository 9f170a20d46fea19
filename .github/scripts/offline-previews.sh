#!/usr/bin/env bash
# The offline preview of every stack file, exactly as the pull-request workflow runs it.
# Each preview is printed and kept in OUT/<stack>.txt; after previewing them all, the script fails
# when any preview failed (exit 1: a mandatory policy violation; 2: an invalid stack or program).
# Usage: offline-previews.sh [OUT]   (PYTHON overrides the interpreter, default .venv/bin/python)
set -euo pipefail
out=${1:-previews}
python=${PYTHON:-.venv/bin/python}
mkdir -p "$out"
mapfile -t stacks < <("$python" -m infra stacks --names)
failed=()
for stack in "${stacks[@]}"; do
  status=0
  "$python" -m infra preview "$stack" > "$out/$stack.txt" 2>&1 || status=$?
  cat "$out/$stack.txt"
  if (( status != 0 )); then
    failed+=("$stack (exit $status)")
  fi
done
if (( ${#failed[@]} )); then
  echo "offline preview failed: ${failed[*]}" >&2
  exit 1
fi
echo "offline preview passed: ${#stacks[@]} stacks"
