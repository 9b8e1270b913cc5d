#!/usr/bin/env bash
# Renders the figure gallery into docs/gallery/ and writes its README with the
# command behind every picture. Run from the repository root (`make gallery`,
# which builds first and passes CHAINRULE=path/to/chainrule).
set -euo pipefail
cd "$(dirname "$0")/.."
# PDFs carry this date instead of the time they were made, so a rerun changes no bytes.
export SOURCE_DATE_EPOCH=0
if [[ -n "${CHAINRULE:-}" ]]; then
  bin=$CHAINRULE
else
  swift build -c release --static-swift-stdlib --product chainrule >/dev/null
  bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/chainrule"
fi
out=docs/gallery
mkdir -p "$out"
readme="$out/README.md"
{
  echo "# Figure gallery"
  echo
  echo "Made by \`scripts/gallery.sh\` (\`make gallery\`); every picture with the command that drew it."
  echo "Regenerate, never edit by hand."
  echo
  echo "# Graphs: \`chainrule render\`"
  echo
} >"$readme"

# The arguments as a shell would need them typed: quoted where they hold spaces or symbols.
quoted() {
  local arg text=""
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./,=:+-]+$ ]]; then text+=" $arg"; else text+=" '${arg//\'/\'\\\'\'}'"; fi
  done
  echo "${text# }"
}

figure() { # figure FILE TITLE ARGS...
  local file="$1" title="$2"
  shift 2
  "$bin" render "$@" -o "$out/$file"
  {
    echo "## $title"
    echo
    echo '```'
    echo "chainrule render $(quoted "$@") -o $file"
    echo '```'
    echo
    case "$file" in *.png) echo "![$title]($file)" ;; *) echo "[$file]($file)" ;; esac
    echo
  } >>"$readme"
}

frames() { # frames FOLDER TITLE "FRAMES TO SHOW" ARGS...: --steps as PNG frames
  local folder="$1" title="$2" shown="$3"
  shift 3
  rm -rf "${out:?}/$folder"
  "$bin" render "$@" -o "$out/$folder/"
  {
    echo "## $title"
    echo
    echo '```'
    echo "chainrule render $(quoted "$@") -o $folder/"
    echo '```'
    echo
    for frame in $shown; do
      echo "![$title: $frame]($folder/$frame)"
      echo
    done
  } >>"$readme"
}

figure cs231n-circuit.png "CS231n circuit f = (x + y)·z: values green above each wire, gradients red below" samples/cs231n-circuit.grad
figure cs231n-circuit.svg 'The same circuit as SVG: text stays selectable `<text>` elements' samples/cs231n-circuit.grad
figure cs231n-local.png "With local gradients ∂out/∂in in blue: upstream × local = downstream" samples/cs231n-circuit.grad --labels value,local,grad
figure cs231n-tb.png "Top to bottom, with a title" samples/cs231n-circuit.grad --direction TB --title "f = (x + y) · z"
figure cs231n-record.png "micrograd's record style: name | data | grad" samples/cs231n-circuit.grad --style record
figure cs231n-check.png "Check overlay: every node's backward rule against finite differences" samples/cs231n-circuit.grad --check
figure cs231n-steps.pdf "Backprop step by step, one PDF page per gate: upstream × local = downstream at the active gate" samples/cs231n-circuit.grad --steps
frames cs231n-steps "The same as PNG frames (step-00.png is the forward pass with only the seed gradient)" "step-01.png step-02.png" samples/cs231n-circuit.grad --steps
frames cs231n-record-steps "Step by step in the record style: the step written inside the active box" "step-01.png" samples/cs231n-circuit.grad --steps --style record
figure sigmoid-neuron.png "CS231n's sigmoid neuron, gate by gate" samples/sigmoid-neuron.grad
figure sigmoid-colorblind.png "The same with the colour-blind palette (Okabe–Ito), 3 decimals" samples/sigmoid-neuron.grad --palette colorblind --precision 3
figure sigmoid-forward.png "Forward pass only (--no-grad)" samples/sigmoid-neuron.grad --no-grad
figure sigmoid-steps.pdf "The sigmoid neuron step by step, eight gates" samples/sigmoid-neuron.grad --steps
figure micrograd-neuron.png "micrograd's neuron: tanh(x1·w1 + x2·w2 + b)" samples/micrograd-neuron.grad
figure custom-op-wrong.png "A custom op whose backward forgot a factor: the check overlay points at it" samples/custom-op-wrong.grad --check
figure shared-leaf.png "A leaf read by several ops is drawn as a copy beside each use: x0 feeds every product" -e "x0 = 0.5; x1 = x0 * x0; x2 = x1 * x0; x3 = x2 * x0; x4 = x3 * x0"
figure nan-inf-record.png "NaN and infinities in heatmaps: grey for NaN, the colour map's ends darkened for ±inf, counted beside each range" -e "x = [1, 2, 3, 4]; y = sum(log(x - 2) * x)" --style record
figure maxpool-routing.png "Max-pool routes each gradient to the cell that won" samples/maxpool-routing.grad
figure mlp-circuit.png "Tensors on wires: value and gradient heatmaps with their ranges" --example mlp --style circuit
figure mlp-record.png "A two-layer perceptron: value and gradient heatmaps per tensor" --example mlp --style record
figure conv-layer.png "CS231n's conv layer, one box per layer with its parameter count" samples/conv-layer.grad
figure lenet.png "LeNet-5 for a 16:9 slide: one stage per layer (conv → relu → pool in one box), wrapped into rows in snake order" samples/lenet.grad
figure lenet-ops.svg "LeNet-5 op by op, fitted to a slide: weights folded into their ops, rows in snake order, each op its shape and ranges (14.2 pt on a 16:9 slide)" samples/lenet.grad --view ops
figure onnx-small-cnn.png "A PyTorch model from torch.onnx.export (docs/onnx.md): layers and weights named as in its state_dict" Tests/ChainruleONNXTests/Fixtures/small-cnn.onnx
figure convnet-ops.png "A small conv net op by op, fitted to a slide: weights folded into their ops, a small picture beside each range (14.3 pt on a 16:9 slide)" --example convnet --style model --view ops
figure convnet-ops.pdf "The same as PDF" --example convnet --style model --view ops
checked() { # checked FILE TITLE FLAG ARGS...: `chainrule check ARGS FLAG FILE`, FLAG --figure or (after --sweep NODE) -o
  local file="$1" title="$2" flag="$3"
  shift 3
  local status=0
  "$bin" check "$@" "$flag" "$out/$file" >/dev/null || status=$?
  # A figure of a failing check is still drawn, and the check exits 1; anything else is an error.
  if (( status > 1 )); then exit "$status"; fi
  {
    echo "## $title"
    echo
    echo '```'
    echo "chainrule check $(quoted "$@") $flag $file"
    echo '```'
    echo
    echo "![$title]($file)"
    echo
  } >>"$readme"
}

{
  echo "# Checks: \`chainrule check\`"
  echo
} >>"$readme"
checked check-custom-op-wrong.png "The check of the wrong custom op drawn with --figure: the failing node in red with its relative error" --figure samples/custom-op-wrong.grad
checked check-sweep.png "The step sweep of a node's rule: |rule − numeric| against h for central, five-point and Richardson" -o samples/custom-op.grad --sweep h

lecture() { # lecture FILE NAME [ARGS...]: a `chainrule figure`
  local file="$1" name="$2"
  shift 2
  "$bin" figure "$name" "$@" -o "$out/$file"
  local summary
  summary="$("$bin" figure --list | awk -v n="$name" '$1 == n { $1 = ""; sub(/^ +/, ""); print }')"
  {
    echo "## \`$name\`${*:+ ($*)}: $summary"
    echo
    echo '```'
    echo "chainrule figure $name${*:+ $(quoted "$@")} -o $file"
    echo '```'
    echo
    echo "![$name]($file)"
    echo
  } >>"$readme"
}

{
  echo "# Lecture figures"
  echo
  echo "\`chainrule figure --list\` names them all; each also writes .svg and .pdf."
  echo
} >>"$readme"
# Figures drawn from a program (network, templates) get theirs below.
for name in $("$bin" figure --list | awk '{ print $1 }'); do
  case "$name" in network | templates) continue ;; esac
  lecture "figure-$name.png" "$name"
done
lecture figure-activations-colorblind.png activations --palette colorblind
lecture figure-network.png network samples/mlp.grad
lecture figure-templates.png templates samples/digits-classifier.grad
lecture figure-templates-cifar.png templates samples/linear-classifier.grad
lecture figure-neuron-numbers.png neuron --inputs 1,2 --weights 0.5,-1 --bias 0.1 --activation sigmoid
lecture figure-neuron-program.png neuron samples/mlp.grad
lecture figure-softmax-label.png softmax --logits 3.2,5.1,-1.7 --label 1
lecture figure-conv-arithmetic-same.png conv-arithmetic --input 5 --kernel 3 --stride 1 --pad 1
lecture figure-loss-curve-log.png loss-curve --log samples/logs/pytorch-train.csv
lecture figure-loss-curve-4x3.png loss-curve --log samples/logs/pytorch-train.csv --fit 4:3 --title "A PyTorch run on a 4:3 slide"

training_figure() { # training_figure FILE TITLE ARGS...: `chainrule figure ARGS -o FILE` (docs/training.md)
  local file="$1" title="$2"
  shift 2
  "$bin" figure "$@" -o "$out/$file"
  { echo "## $title"; echo; echo '```'; echo "chainrule figure $(quoted "$@") -o $file"; echo '```'; echo; echo "![$title]($file)"; echo; } >>"$readme"
}
{
  echo "# Training figures"
  echo
} >>"$readme"
for surface in rosenbrock beale saddle bowl; do
  training_figure "optimizers-$surface.png" "Six optimizers on $surface, the final losses in the legend" optimizers --surface "$surface"
done
training_figure lr-schedules.png "The learning-rate schedules of --decay" lr-schedules
training_figure feature-maps-flower.png "Four 3×3 filters over a photo (1×3×64×96), one map per channel" \
  feature-maps samples/flower-filters.grad --layer edges --image samples/flower.png
"$bin" train samples/digits-cnn.grad --data digits-images --val 0.2 --epochs 10 --optimizer adam --lr 0.003 \
  --checkpoint "$out/digits-cnn.safetensors" >/dev/null 2>&1
training_figure feature-maps-digit.png "The first conv layer of the digits CNN, trained 10 epochs (train … --checkpoint digits-cnn.safetensors), on a 3" \
  feature-maps samples/digits-cnn.grad --layer c1 --image samples/digit-3.png --init-from "$out/digits-cnn.safetensors"
rm -f "$out/digits-cnn.safetensors"

echo "gallery: $(find "$out" -type f | wc -l) files in $out"
