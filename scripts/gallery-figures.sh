#!/usr/bin/env bash
# Renders the lecture figures (`chainrule figure NAME`) into docs/gallery/ as
# figure-NAME.png and writes docs/gallery/FIGURES.md with the command behind
# every picture. Run from the repository root. Regenerate, never edit by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product chainrule >/dev/null
bin="$(swift build -c release --show-bin-path)/chainrule"
out=docs/gallery
mkdir -p "$out"
list="$out/FIGURES.md"
{
  echo "# Lecture figures"
  echo
  echo "Made by \`scripts/gallery-figures.sh\`; every figure with the command that drew it."
  echo "\`chainrule figure --list\` names them all; each also writes .svg and .pdf."
  echo
} >"$list"

figure() { # figure FILE NAME [ARGS...]
  local file="$1" name="$2"
  shift 2
  "$bin" figure "$name" "$@" -o "$out/$file"
  local summary
  summary="$("$bin" figure --list | awk -v n="$name" '$1 == n { $1 = ""; sub(/^ +/, ""); print }')"
  {
    echo "## $name${*:+ ($*)}"
    echo
    echo "$summary"
    echo
    echo '```'
    echo "chainrule figure $name${*:+ $*} -o $file"
    echo '```'
    echo
    echo "![$name]($file)"
    echo
  } >>"$list"
}

for name in $("$bin" figure --list | awk '{ print $1 }'); do
  figure "figure-$name.png" "$name"
done
figure figure-activations-colorblind.png activations --palette colorblind
