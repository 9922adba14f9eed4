#!/bin/sh
# fuzz.sh BUILD SECONDS — runs every libFuzzer target of BUILD/fuzz for
# SECONDS each, starting from the seed corpus fuzz/corpus/NAME. New inputs go
# to BUILD/corpus-NAME (the seed folder is only read). A crash stops the run
# with the fuzzer's report and the crashing input in the current folder; turn
# it into a regression test before fixing it.
set -eu
BUILD=$1
SECONDS_EACH=$2
found=0
for target in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    found=1
    name=$(basename "$target" | sed 's/^fuzz_//')
    mkdir -p "$BUILD/corpus-$name"
    echo "fuzz: $name for $SECONDS_EACH s"
    dict=""
    [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    "$target" -max_total_time="$SECONDS_EACH" -print_final_stats=1 $dict "$BUILD/corpus-$name" "fuzz/corpus/$name"
done
[ "$found" = 1 ] || { echo "fuzz: no fuzz targets in $BUILD/fuzz" >&2; exit 1; }
