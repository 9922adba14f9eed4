#!/bin/sh
# lecture.sh — `make lecture`: every experiment of the lecture into
# lecture-out/, then lecture-out/index.html.
#
#   scripts/lecture.sh [BUILD] [OUT]
#
# The mnist experiment needs MNIST: it is looked for as the demo does, in
# $PROFOND_DATA/mnist, then ./data/mnist, then ../shared/data/mnist; if none
# has it, scripts/fetch-mnist.sh tries to download it into data/mnist.
# Without it the other experiments still run and the page is still written;
# mnist says how to get the data, and the command fails.
#
# `profond lecture all` keeps within 5 minutes on a 2-core machine: the
# experiments that train (mnist, autoencoder, gan) stop before an epoch that
# would end past their time budget (tools/cmd_lecture.c) and the page says
# so; `profond lecture gan` alone runs all 20 epochs.
set -u
BUILD=${1:-build}
OUT=${2:-lecture-out}

has_mnist() {
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        [ -f "$1/mnist/$f" ] || [ -f "$1/mnist/$f.gz" ] || return 1
    done
}

for dir in ${PROFOND_DATA:-} data ../shared/data; do
    if [ -n "$dir" ] && has_mnist "$dir"; then
        PROFOND_DATA=$dir exec "$BUILD/profond" lecture all --out "$OUT"
    fi
done
if ! scripts/fetch-mnist.sh > /dev/null 2>&1 || ! has_mnist "${PROFOND_DATA:-data}"; then
    echo "lecture: MNIST is not on this machine and could not be downloaded (scripts/fetch-mnist.sh);" \
         "the mnist experiment will be missing from the page" >&2
fi
PROFOND_DATA=${PROFOND_DATA:-data} exec "$BUILD/profond" lecture all --out "$OUT"
