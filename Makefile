# Chainrule — the two set-up commands are `make run` and `make test`.
# Every target first makes sure the system libraries (Graphviz, Cairo) are there.

SWIFT  ?= swift
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN     = .build/release/chainrule
# Release builds link the Swift runtime and Foundation statically: a process
# starts in half the instructions (16.7 M against 33.2 M for --version), which
# is most of a small figure's or a scalar program's time.
RELEASE = -c release --static-swift-stdlib

.PHONY: deps build run test doccheck bench bench-vs gallery docs clean

# Installs libgraphviz-dev and libcairo2-dev when pkg-config cannot find them.
deps:
	@if ! pkg-config --exists libgvc cairo 2>/dev/null; then \
		echo "Installing Graphviz and Cairo development packages…"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq pkg-config libgraphviz-dev libcairo2-dev; \
	fi

build: deps
	$(SWIFT) build $(RELEASE) --product chainrule

# The main job: every program in samples/ evaluated, gradient-checked and
# rendered into out/ (scripts/run-samples.sh says what each step expects).
run: build
	CHAINRULE=$(BIN) scripts/run-samples.sh

test: deps
	$(SWIFT) test

# Every transcript in README.md and docs/ run with the release build, the slow
# ones included (docs/README.md, "Transcripts"); `make test` runs the others
# with the debug build.
doccheck: build
	$(SWIFT) build --build-tests
	CHAINRULE=$(BIN) $(SWIFT) test --skip-build --filter DocTranscriptTests

bench: deps
	$(SWIFT) build $(RELEASE) --product chainrule-bench
	.build/release/chainrule-bench

# Chainrule against torch, micrograd and torchviz, side by side (scripts/bench-vs.sh
# builds the Python side outside the repository). Not part of `make test`.
bench-vs: build
	CHAINRULE=$(BIN) scripts/bench-vs.sh

# docs/gallery/: every figure with the command that drew it.
gallery: build
	CHAINRULE=$(BIN) scripts/gallery.sh

# docs/ops.md from the registry.
docs: build
	$(BIN) ops --markdown > docs/ops.md

clean:
	rm -rf .build
