/*
 * fuzz_safetensors.c — libFuzzer target for the safetensors reader: every
 * input is handed to pf_safetensors_parse in a fresh context. Any input must
 * either load or fail with an error; a crash, an out-of-bounds read or
 * undefined behaviour is a bug (the build adds ASan and UBSan).
 *
 *   CC=clang cmake -S . -B build-fuzz -DPF_FUZZ=ON -DPF_BUILD_TESTS=OFF
 *   cmake --build build-fuzz && ./build-fuzz/fuzz/fuzz_safetensors fuzz/corpus/safetensors
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "profond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_ctx *ctx = pf_ctx_new(64 * 1024);
    if (!ctx)
        abort();
    pf_named_tensor *out = NULL;
    int n = pf_safetensors_parse(ctx, data, size, &out);
    /* A success must hand back n named tensors; a failure an error. */
    if (n >= 0) {
        if (!out || !pf_ok())
            abort();
        for (int i = 0; i < n; i++)
            if (!out[i].name || !out[i].name[0] || !out[i].tensor || pf_named_find(out, n, out[i].name) == NULL)
                abort();
    } else if (pf_ok()) {
        abort();
    }
    pf_error_clear();
    pf_ctx_free(ctx);
    return 0;
}
