#!/usr/bin/env bash
# clang-format over the C++ sources git tracks, with the repository's .clang-format.
#   scripts/format.sh           reformat the files in place
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 if any do
#   scripts/format.sh [--check] FILE...   only these files
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
files=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) files+=("$arg") ;;
  esac
done
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || { echo "format.sh: $clang_format not found" >&2; exit 2; }
if ((${#files[@]} == 0)); then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.inc')
fi

if ((check == 0)); then
  "$clang_format" -i --style=file "${files[@]}"
  exit 0
fi
differ=()
for f in "${files[@]}"; do
  "$clang_format" --style=file "$f" | cmp -s - "$f" || differ+=("$f")
done
if ((${#differ[@]})); then
  printf 'format.sh: %d of %d files differ from .clang-format:\n' "${#differ[@]}" "${#files[@]}"
  printf '  %s\n' "${differ[@]}"
  echo "run scripts/format.sh to fix them (or: scripts/format.sh FILE...)"
  exit 1
fi
echo "format.sh: all ${#files[@]} files match .clang-format"
