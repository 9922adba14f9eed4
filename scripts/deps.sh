#!/bin/sh
# deps.sh — installs the Debian packages profond needs, if any is missing.
# Each package, and why:
#   build-essential cmake pkg-config   compiler and build
#   libopenblas-dev libopenblas0-pthread   matrix products (CBLAS)
#   liblapacke-dev                     LAPACK's C interface: the eigen-decomposition of PCA
#   libcjson-dev                       the JSON header of safetensors files
#   zlib1g-dev                         gzip-compressed IDX data files
#   libcmocka-dev                      the C test framework
#   dataset-fashion-mnist              Fashion-MNIST, the demo's data when MNIST is absent
#   libplplot-dev plplot-driver-cairo  the lecture's plots, as PNG through cairo
#   libpng-dev                         image grids (digits, reconstructions) as PNG; PNG images in (classify)
#   libjpeg-dev                        JPEG images in (profond classify, pf_image_load)
#   libzip-dev                         PyTorch .pth files are zip archives (pf_pth_load); libzip reads
#                                      from memory too (the fuzzer) and checks the archive's consistency
set -eu
PACKAGES="build-essential cmake pkg-config libopenblas-dev libopenblas0-pthread liblapacke-dev libcjson-dev zlib1g-dev libcmocka-dev dataset-fashion-mnist libplplot-dev plplot-driver-cairo libpng-dev libjpeg-dev libzip-dev"
missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
