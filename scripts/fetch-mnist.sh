#!/bin/sh
# fetch-mnist.sh — downloads MNIST into ${PROFOND_DATA:-data}/mnist.
#
#   scripts/fetch-mnist.sh
#
# Gets the four .gz files from the first mirror that has them (curl or
# wget, whichever is installed), then verifies each with check-mnist.sh
# (sha256 of the uncompressed content); a file that does not match is
# deleted and the next mirror is tried. Files already there and correct
# are kept. MNIST_MIRRORS, a space-separated list of URL prefixes, replaces
# the mirrors below (a local copy: MNIST_MIRRORS=file:///path/to/mnist/).
set -u

MIRRORS=${MNIST_MIRRORS:-"https://ossci-datasets.s3.amazonaws.com/mnist/ https://storage.googleapis.com/cvdf-datasets/mnist/"}
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

here=$(cd "$(dirname "$0")" && pwd)
dest=${PROFOND_DATA:-data}/mnist
mkdir -p "$dest" || exit 1

if command -v curl > /dev/null 2>&1; then
    download() { curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget > /dev/null 2>&1; then
    download() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
    echo "fetch-mnist: neither curl nor wget is installed" >&2
    exit 1
fi

failed=0
for name in $FILES; do
    if sh "$here/check-mnist.sh" "$dest" "$name" > /dev/null 2>&1; then
        echo "fetch-mnist: $dest/$name: already there and verified"
        continue
    fi
    rm -f "$dest/$name" "$dest/$name.gz"
    ok=0
    for mirror in $MIRRORS; do
        echo "fetch-mnist: $mirror$name.gz"
        if download "$mirror$name.gz" "$dest/$name.gz.part"; then
            mv "$dest/$name.gz.part" "$dest/$name.gz"
            if sh "$here/check-mnist.sh" "$dest" "$name"; then
                ok=1
                break
            fi
            echo "fetch-mnist: deleting $dest/$name.gz (wrong content)" >&2
            rm -f "$dest/$name.gz"
        fi
        rm -f "$dest/$name.gz.part"
    done
    [ $ok -eq 1 ] || { echo "fetch-mnist: could not get a verified $name" >&2; failed=1; }
done
[ $failed -eq 0 ] && echo "fetch-mnist: MNIST is in $dest"
exit $failed
