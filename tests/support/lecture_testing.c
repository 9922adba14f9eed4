/*
 * lecture_testing.c — the lecture tests' shared helpers (see
 * lecture_testing.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture_testing.h"
#include "testing.h"

bool pf_test_make_temp_dir(char *dir, size_t n, const char *name)
{
    if (snprintf(dir, n, "/tmp/pf_%s_XXXXXX", name) >= (int)n || !mkdtemp(dir)) {
        perror("mkdtemp");
        return false;
    }
    return true;
}

bool pf_test_remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
        return false;
    }
    return true;
}

cJSON *pf_test_read_results(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/results.json", dir, name);
    char *text = pf_test_read_text(path, NULL);
    if (!text)
        fail_msg("%s: missing", path);
    cJSON *results = cJSON_Parse(text);
    free(text);
    if (!results)
        fail_msg("%s: not JSON", path);
    return results;
}

double pf_test_number(const cJSON *results, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(results, "numbers"), key);
    if (!cJSON_IsNumber(v))
        fail_msg("results.json: numbers.%s is not a number", key);
    return v->valuedouble;
}

int pf_test_series(const cJSON *results, const char *key, double *out, int max)
{
    const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(results, "numbers"), key), *v;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > max)
        fail_msg("results.json: numbers.%s is not a series of at most %d numbers", key, max);
    int n = 0;
    cJSON_ArrayForEach(v, a) out[n++] = cJSON_GetNumberValue(v);
    return n;
}

void pf_test_series_n(const cJSON *results, const char *key, double *out, int n)
{
    if (pf_test_series(results, key, out, n) != n)
        fail_msg("results.json: numbers.%s is not a series of %d numbers", key, n);
}

bool pf_test_notes_contain(const cJSON *results, const char *needle)
{
    const cJSON *note;
    cJSON_ArrayForEach(note, cJSON_GetObjectItem(results, "notes"))
    {
        if (cJSON_IsString(note) && strstr(note->valuestring, needle))
            return true;
    }
    return false;
}

void pf_test_write_idx(const char *dir, const char *file, int ndim, const int *dims, const unsigned char *bytes,
                       size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_true(ndim >= 1 && ndim <= 3);
    unsigned char head[4 + 4 * 3] = {0, 0, 8, (unsigned char)ndim};
    for (int i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++)
            head[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    assert_int_equal(fwrite(head, 1, 4 + 4 * (size_t)ndim, f), 4 + 4 * (size_t)ndim);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned long be32(const unsigned char *b)
{
    return (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3];
}

void pf_test_assert_png_header(const char *path, unsigned long width, unsigned long height,
                               unsigned long min_side)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: missing", path);
    unsigned char head[24] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n != sizeof head || memcmp(head, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(head + 12, "IHDR", 4) != 0)
        fail_msg("%s: not a PNG image", path);
    unsigned long w = be32(head + 16), h = be32(head + 20);
    if (width ? w != width || h != height : w < min_side || h < min_side)
        fail_msg("%s: %lux%lu pixels, expected %lux%lu (0x0: at least %lu each way)", path, w, h, width, height,
                 min_side);
}

void pf_test_assert_png_decodes(const char *path, unsigned min_side)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: missing", path);
    unsigned char signature[8] = {0};
    if (fread(signature, 1, 8, f) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(f);
        fail_msg("%s: not a PNG file", path);
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep volatile row = NULL;
    /* volatile: read after longjmp. */
    volatile png_uint_32 width = 0, height = 0, rows = 0;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free((void *)row);
        fclose(f);
        fail_msg("%s: libpng cannot decode it (%u of %u rows read)", path, (unsigned)rows, (unsigned)height);
        return;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    width = png_get_image_width(png, info);
    height = png_get_image_height(png, info);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    row = malloc(png_get_rowbytes(png, info));
    for (int pass = 0; row && pass < passes; pass++)
        for (rows = 0; rows < height; rows++)
            png_read_row(png, row, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free((void *)row);
    fclose(f);
    if (width < min_side || height < min_side)
        fail_msg("%s: %ux%u pixels, too small", path, (unsigned)width, (unsigned)height);
}
