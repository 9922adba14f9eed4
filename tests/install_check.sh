#!/bin/sh
# install_check.sh BUILD — installs BUILD into a temporary prefix and builds
# the README's example against it with pkg-config, as a C user would:
#   cc demo.c $(pkg-config --cflags --libs profond)
# then checks that it prints the lecture's gradient (2, 4, 8).
set -eu
BUILD=$1
PREFIX=$(mktemp -d)
trap 'rm -rf "$PREFIX"' EXIT
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
PCDIR=$(dirname "$(find "$PREFIX" -name profond.pc | head -n 1)")
export PKG_CONFIG_PATH="$PCDIR"
cat > "$PREFIX/demo.c" <<'C'
#include <profond.h>

int main(void)
{
    pf_ctx *ctx = pf_ctx_new(0);
    pf_tensor *t = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(3)), true);
    pf_backward(pf_sum(ctx, pf_pow(ctx, t, 2)));
    pf_print(t->grad);
    pf_ctx_free(ctx);
    return pf_ok() ? 0 : 1;
}
C
cc -std=c17 -Wall -Werror "$PREFIX/demo.c" $(pkg-config --cflags --libs profond) -o "$PREFIX/demo"
LIBDIR=$(pkg-config --variable=libdir profond)
out=$(LD_LIBRARY_PATH="$LIBDIR" "$PREFIX/demo")
echo "$out"
[ "$out" = "tensor([2., 4., 8.])" ]
