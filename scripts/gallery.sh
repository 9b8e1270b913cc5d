#!/usr/bin/env bash
# Renders the figure gallery into docs/gallery/ and writes its README with the
# command behind every picture. Run from the repository root (`make gallery`).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product chainrule >/dev/null
bin="$(swift build --show-bin-path)/chainrule"
out=docs/gallery
mkdir -p "$out"
readme="$out/README.md"
{
  echo "# Figure gallery"
  echo
  echo "Made by \`scripts/gallery.sh\` (\`make gallery\`); every picture with the command that drew it."
  echo "Regenerate, never edit by hand."
  echo
} >"$readme"

figure() { # figure FILE TITLE ARGS...
  local file="$1" title="$2"
  shift 2
  "$bin" render "$@" -o "$out/$file"
  {
    echo "## $title"
    echo
    echo '```'
    echo "chainrule render $* -o $file"
    echo '```'
    echo
    case "$file" in *.png) echo "![$title]($file)" ;; *) echo "[$file]($file)" ;; esac
    echo
  } >>"$readme"
}

figure cs231n-circuit.png "CS231n circuit f = (x + y)·z: values green above each wire, gradients red below" --example cs231n
figure cs231n-circuit.svg "The same circuit as SVG: text stays selectable <text>" --example cs231n
figure cs231n-local.png "With local gradients ∂out/∂in in blue: upstream × local = downstream" --example cs231n --labels value,local,grad
figure cs231n-tb.png "Top to bottom, with a title" --example cs231n --direction TB --title "f = (x + y) · z"
figure cs231n-record.png "micrograd's record style: name | data | grad" --example cs231n --style record
figure cs231n-check.png "Check overlay: every node's backward rule against finite differences" --example cs231n --check
figure sigmoid-circuit.png "CS231n sigmoid neuron, gate by gate" --example sigmoid
figure sigmoid-colorblind.png "The same with the colour-blind palette (Okabe–Ito)" --example sigmoid --palette colorblind --precision 3
figure sigmoid-forward.png "Forward pass only (--no-grad)" --example sigmoid --no-grad
figure mlp-record.png "A two-layer perceptron: value and gradient heatmaps per tensor" --example mlp --style record
figure mlp-model.png "The same network, one box per layer" --example mlp
figure convnet-model.png "A small conv net, one box per layer with parameter counts" --example convnet
figure convnet-ops.png "The conv net op by op, layers framed, 4-D tensors by their first channels" --example convnet --view ops --style model
figure convnet-ops.pdf "The same as PDF" --example convnet --view ops --style model
echo "gallery: $(ls "$out" | wc -l) files in $out"
