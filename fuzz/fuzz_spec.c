/*
 * fuzz_spec.c — libFuzzer target for the model-spec parser: every input (at
 * most 4 KB, copied and NUL-terminated, since the API takes a C string) is
 * handed to pf_model_from_spec in a fresh context. Any input must either
 * build a model or fail with an error; a crash, undefined behaviour or an
 * unbounded allocation is a bug (the build adds ASan and UBSan; spec.c
 * refuses models of more than 2^27 state elements, so a spec cannot ask for
 * more than 512 MiB of parameters and libFuzzer's default 2 GB limits hold).
 *
 *   CC=clang cmake -S . -B build-fuzz -DPF_FUZZ=ON -DPF_BUILD_TESTS=OFF
 *   cmake --build build-fuzz
 *   cp -r fuzz/corpus/spec /tmp/spec-corpus   # libFuzzer writes into the first folder
 *   ./build-fuzz/fuzz/fuzz_spec -dict=fuzz/spec.dict /tmp/spec-corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profond.h"

#define MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char text[MAX_INPUT + 1];
    memcpy(text, data, size);
    text[size] = '\0';
    pf_ctx *ctx = pf_ctx_new(64 * 1024);
    if (!ctx)
        abort();
    pf_module *m = pf_model_from_spec(ctx, text);
    /* A model comes with no error and can say what it is; a failure comes
     * with a message. */
    if (m) {
        if (!pf_ok() || pf_module_num_children(m) < 1 || pf_module_num_parameters(m) < 0)
            abort();
        pf_named_tensor *state;
        if (pf_module_state(m, &state) < 0)
            abort();
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            pf_module_fprint(null, m);
            fclose(null);
        }
    } else if (pf_ok() || !pf_error()[0]) {
        abort();
    }
    pf_error_clear();
    pf_ctx_free(ctx);
    return 0;
}
