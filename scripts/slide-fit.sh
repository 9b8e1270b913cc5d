#!/usr/bin/env bash
# Prints the slide-fit tables: every sample in its default style, and every
# gallery graph figure with its command line's options, scaled to fill a 16:9
# slide's 900×460 pt, and the size its smallest text has there (the aim is at
# least 14 pt). Run from the repository root after `swift build --build-tests`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift test --skip-build --filter 'SlideFitTests.every(Sample|GalleryFigure)ReadsOnASlide' 2>&1 | grep '^|'
