/*
 * fuzz_idx.c — libFuzzer target for the IDX reader: every input is handed
 * to pf_idx_parse in a fresh context; inputs that start with the gzip magic
 * bytes are also written to a temporary file and read back with
 * pf_idx_load, so that the gzip path is fuzzed too. Any input must either
 * load or fail with an error; a crash, an out-of-bounds read or undefined
 * behaviour is a bug (the build adds ASan and UBSan).
 *
 *   CC=clang cmake -S . -B build-fuzz -DPF_FUZZ=ON -DPF_BUILD_TESTS=OFF
 *   cmake --build build-fuzz && ./build-fuzz/fuzz/fuzz_idx -max_total_time=30 fuzz/corpus/idx
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "profond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A loaded tensor must be fully readable; a failure must leave an error. */
static void check_result(const pf_tensor *t)
{
    if (t) {
        if (!pf_ok() || t->ndim < 1 || t->ndim > PF_MAX_DIMS)
            abort();
        int64_t n = pf_numel(t);
        double *values = malloc(sizeof(double) * (size_t)(n ? n : 1));
        if (!values || !pf_copy_to_f64(t, values))
            abort();
        free(values);
    } else if (pf_ok()) {
        abort();
    }
    pf_error_clear();
}

/* The temporary file of this process, made on first use. */
static const char *scratch_file(void)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_idx_XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pf_ctx *ctx = pf_ctx_new(64 * 1024);
    if (!ctx)
        abort();
    check_result(pf_idx_parse(ctx, data, size));
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        FILE *f = fopen(scratch_file(), "wb");
        if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
            abort();
        check_result(pf_idx_load(ctx, scratch_file()));
        remove(scratch_file());
    }
    pf_ctx_free(ctx);
    return 0;
}
