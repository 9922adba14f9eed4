/*
 * fuzz_pth.c — libFuzzer target for the .pth reader and its restricted
 * unpickler. An input that starts like a zip archive ("PK\3\4") is handed
 * to pf_pth_parse as a whole file; any other input is taken as the pickle
 * itself and zipped in memory (libzip) as torch.save lays a file out:
 * archive/data.pkl, and archive/data/0 .. archive/data/3, storages of 64,
 * 16, 4 and 0 bytes, so that the fuzzer reaches the tensor checks and
 * copies, not only the archive's. Any input must either load or fail with
 * an error; a crash, an out-of-bounds read or undefined behaviour is a bug
 * (the build adds ASan and UBSan).
 *
 *   CC=clang cmake -S . -B build-fuzz -DPF_FUZZ=ON -DPF_BUILD_TESTS=OFF
 *   cmake --build build-fuzz
 *   ./build-fuzz/fuzz/fuzz_pth -dict=fuzz/pth.dict -max_total_time=60 fuzz/corpus/pth
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "profond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool add(zip_t *za, const char *name, const void *bytes, size_t n)
{
    zip_source_t *s = zip_source_buffer(za, bytes, n, 0);
    if (!s)
        return false;
    zip_int64_t i = zip_file_add(za, name, s, ZIP_FL_OVERWRITE);
    if (i < 0) {
        zip_source_free(s);
        return false;
    }
    return zip_set_file_compression(za, (zip_uint64_t)i, ZIP_CM_STORE, 0) == 0;
}

/* The archive torch.save would write around this pickle, in memory
 * (malloc'd), or NULL. */
static uint8_t *wrap(const uint8_t *pickle, size_t size, size_t *out_size)
{
    static const float storage[16] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16};
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    if (!src)
        return NULL;
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
    uint8_t *bytes = NULL;
    if (za) {
        bool ok = add(za, "archive/data.pkl", pickle, size) && add(za, "archive/data/0", storage, 64) &&
                  add(za, "archive/data/1", storage, 16) && add(za, "archive/data/2", storage, 4) &&
                  add(za, "archive/data/3", storage, 0) && add(za, "archive/version", "3\n", 2);
        if (!ok || zip_close(za) != 0) {
            zip_discard(za);
        } else if (zip_source_open(src) == 0) {
            zip_source_seek(src, 0, SEEK_END);
            zip_int64_t n = zip_source_tell(src);
            zip_source_seek(src, 0, SEEK_SET);
            bytes = n > 0 ? malloc((size_t)n) : NULL;
            if (bytes && zip_source_read(src, bytes, (zip_uint64_t)n) != n) {
                free(bytes);
                bytes = NULL;
            }
            *out_size = (size_t)n;
            zip_source_close(src);
        }
    }
    zip_source_free(src);
    zip_error_fini(&err);
    return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *file = data;
    uint8_t *wrapped = NULL;
    size_t file_size = size;
    if (size < 4 || memcmp(data, "PK\x03\x04", 4) != 0) {
        wrapped = wrap(data, size, &file_size);
        if (!wrapped)
            abort();
        file = wrapped;
    }
    pf_ctx *ctx = pf_ctx_new(64 * 1024);
    if (!ctx)
        abort();
    pf_named_tensor *out = NULL;
    int n = pf_pth_parse(ctx, file, file_size, &out);
    /* A success hands back n named, contiguous tensors; a failure an
     * error and no list. */
    if (n >= 0) {
        if (!out || !pf_ok())
            abort();
        for (int i = 0; i < n; i++) {
            if (!out[i].name || !out[i].name[0] || !out[i].tensor || !pf_is_contiguous(out[i].tensor))
                abort();
            double sum = 0;
            if (out[i].tensor->dtype == PF_F32)
                for (int64_t k = 0; k < pf_numel(out[i].tensor); k++)
                    sum += pf_data_f32(out[i].tensor)[k];
            (void)sum;
        }
    } else if (pf_ok() || out) {
        abort();
    }
    pf_error_clear();
    pf_ctx_free(ctx);
    free(wrapped);
    return 0;
}
