#!/bin/sh
# demo.sh — the main job: trains the lecture's CNN on MNIST exactly as the
# lecture does (SGD, lr 0.01, batch 100, 10 epochs), printing the test
# error and the time of every epoch.
#
# MNIST is looked for in $PROFOND_DATA/mnist, then ./data/mnist, then
# ../shared/data/mnist; if none has it, scripts/fetch-mnist.sh tries to
# download it. Offline and without MNIST, the demo says so and trains on
# Fashion-MNIST from Debian's dataset-fashion-mnist instead.
set -eu
BUILD=${1:-build}
PROFOND="$BUILD/profond"

has_mnist() {
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        [ -f "$1/mnist/$f" ] || [ -f "$1/mnist/$f.gz" ] || return 1
    done
}

for dir in ${PROFOND_DATA:-} data ../shared/data; do
    if [ -n "$dir" ] && has_mnist "$dir"; then
        PROFOND_DATA=$dir exec "$PROFOND" train --data mnist --epochs 10 --batch 100 --lr 0.01
    fi
done

if scripts/fetch-mnist.sh >/dev/null 2>&1 && has_mnist "${PROFOND_DATA:-data}"; then
    PROFOND_DATA=${PROFOND_DATA:-data} exec "$PROFOND" train --data mnist --epochs 10 --batch 100 --lr 0.01
fi

echo "demo: MNIST is not on this machine and could not be downloaded; training on Fashion-MNIST (Debian's dataset-fashion-mnist) instead"
exec "$PROFOND" train --data fashion-mnist --epochs 10 --batch 100 --lr 0.01
