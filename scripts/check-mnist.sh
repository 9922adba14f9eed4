#!/bin/sh
# check-mnist.sh — verifies the MNIST files of a folder.
#
#   scripts/check-mnist.sh DIR [NAME...]
#
# For each of the four MNIST files (or only the NAMEs given, e.g.
# train-labels-idx1-ubyte), takes DIR/NAME or else DIR/NAME.gz, and compares
# the sha256 of its UNCOMPRESSED content with the original files' (gzip
# files are recompressed differently by every mirror, their content is not).
# Prints one line per bad or missing file and exits 1 if there is any;
# exits 77 when no sha256 tool is installed, 2 on a usage error.
set -u

usage() {
    echo "usage: $0 DIR [train-images-idx3-ubyte|train-labels-idx1-ubyte|t10k-images-idx3-ubyte|t10k-labels-idx1-ubyte ...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
[ -d "$dir" ] || { echo "check-mnist: $dir: no such folder" >&2; exit 1; }

# The sha256 of each file's uncompressed content (LeCun, Cortes, Burges).
expected_sha256() {
    case "$1" in
        train-images-idx3-ubyte) echo ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db ;;
        train-labels-idx1-ubyte) echo 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 ;;
        t10k-images-idx3-ubyte) echo 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 ;;
        t10k-labels-idx1-ubyte) echo ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 ;;
        *) return 1 ;;
    esac
}

if command -v sha256sum > /dev/null 2>&1; then
    sha256() { sha256sum | cut -d ' ' -f 1; }
elif command -v shasum > /dev/null 2>&1; then
    sha256() { shasum -a 256 | cut -d ' ' -f 1; }
else
    echo "check-mnist: neither sha256sum nor shasum is installed: cannot verify $dir" >&2
    exit 77
fi

[ $# -gt 0 ] || set -- train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte

bad=0
for name in "$@"; do
    want=$(expected_sha256 "$name") || { echo "check-mnist: $name is not an MNIST file name" >&2; usage; }
    if [ -f "$dir/$name" ]; then
        file=$dir/$name
        got=$(sha256 < "$file")
    elif [ -f "$dir/$name.gz" ]; then
        file=$dir/$name.gz
        # A damaged .gz stops gzip early: its output then has another hash.
        got=$(gzip -dc < "$file" 2> /dev/null | sha256)
    else
        echo "check-mnist: $dir: $name (or $name.gz) is missing" >&2
        bad=1
        continue
    fi
    if [ "$got" != "$want" ]; then
        echo "check-mnist: $file: wrong content (sha256 of the uncompressed data is $got, expected $want)" >&2
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "check-mnist: $dir: $# file(s) verified"
exit $bad
