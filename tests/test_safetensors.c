/*
 * test_safetensors.c — reading and writing safetensors files: round trips of
 * every dtype and layout, the header's padding, a file written by Hugging
 * Face's reference library, atomic saves, and hostile or truncated inputs,
 * each of which must fail with a precise message and no crash.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testing.h"

/* ---- helpers ---------------------------------------------------------------- */

/* A safetensors image in memory: the header length, the header `json`
 * (unpadded), then data_len bytes 0, 1, 2, ... Free with free(). */
static uint8_t *make_image(const char *json, size_t data_len, size_t *size)
{
    size_t hlen = strlen(json);
    *size = 8 + hlen + data_len;
    uint8_t *b = malloc(*size);
    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, json, hlen);
    for (size_t i = 0; i < data_len; i++)
        b[8 + hlen + i] = (uint8_t)i;
    return b;
}

/* Parses the image of (json, data_len) and returns the count. */
static int parse_image(pf_ctx *ctx, const char *json, size_t data_len, pf_named_tensor **out)
{
    size_t size;
    uint8_t *b = make_image(json, data_len, &size);
    int n = pf_safetensors_parse(ctx, b, size, out);
    free(b);
    return n;
}

/* The whole content of a file. Free with free(). */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    assert_true(len >= 0);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *size = (size_t)len;
    return b;
}

static void write_file(const char *path, const uint8_t *b, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static bool file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static uint64_t header_length(const uint8_t *b)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    return n;
}

/* ---- round trips -------------------------------------------------------------- */

static void test_round_trip_every_dtype_and_layout(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = "test_safetensors_round_trip.safetensors";
    pf_tensor *w = pf_from_f32(ctx, (float[]){1, -2.5f, 3, 4, 5e-8f, -6e7f}, PF_DIMS(2, 3));
    pf_tensor *wt = pf_transpose(ctx, w, 0, 1); /* [3,2], not contiguous */
    pf_tensor *narrow = pf_narrow(ctx, w, 1, 1, 2); /* [2,2] at an offset */
    PF_CHECK(wt && !pf_is_contiguous(wt) && narrow && !pf_is_contiguous(narrow));
    pf_named_tensor in[] = {
        {"w", w},
        {"w.T", wt},
        {"narrow", narrow},
        {"f64", pf_from_f64(ctx, (double[]){1.0 / 3, -1e300, 0}, PF_DIMS(3))},
        {"i64", pf_from_i64(ctx, (int64_t[]){INT64_MIN, -1, 0, INT64_MAX}, PF_DIMS(2, 2))},
        {"u8", pf_from_u8(ctx, (uint8_t[]){0, 7, 128, 255, 1}, PF_DIMS(5))},
        {"scalar", pf_scalar(ctx, 2.5)},
        {"i64.scalar", pf_from_i64(ctx, (int64_t[]){-42}, 0, NULL)},
        {"empty", pf_zeros(ctx, PF_DIMS(0, 3))},
        {"empty.u8", pf_empty(ctx, PF_U8, PF_DIMS(4, 0))},
        {"naïve.ünïcode", pf_ones(ctx, PF_DIMS(1))},
    };
    int n_in = (int)(sizeof in / sizeof *in);
    PF_CHECK(pf_ok());
    PF_CHECK(pf_safetensors_save(path, n_in, in));

    pf_named_tensor *out = NULL;
    int n = pf_safetensors_load(ctx, path, &out);
    PF_CHECK(n == n_in);
    /* Written in the order given, so read back in the same order. */
    for (int i = 0; i < n; i++) {
        assert_string_equal(out[i].name, in[i].name);
        pf_tensor *a = out[i].tensor, *e = in[i].tensor;
        assert_int_equal(a->dtype, e->dtype);
        assert_int_equal(a->device, PF_CPU);
        assert_true(pf_same_shape(a, e));
        assert_true(pf_is_contiguous(a));
        assert_false(a->requires_grad);
    }
    PF_ASSERT_VALUES(out[0].tensor, 0, 1, -2.5f, 3, 4, 5e-8f, -6e7f);
    PF_ASSERT_SHAPE(out[1].tensor, 3, 2);
    PF_ASSERT_VALUES(out[1].tensor, 0, 1, 4, -2.5f, 5e-8f, 3, -6e7f);
    PF_ASSERT_SHAPE(out[2].tensor, 2, 2);
    PF_ASSERT_VALUES(out[2].tensor, 0, -2.5f, 3, 5e-8f, -6e7f);
    PF_ASSERT_VALUES(out[3].tensor, 0, 1.0 / 3, -1e300, 0);
    const int64_t *i64 = pf_data_i64(out[4].tensor);
    assert_true(i64[0] == INT64_MIN && i64[1] == -1 && i64[2] == 0 && i64[3] == INT64_MAX);
    PF_ASSERT_VALUES(out[5].tensor, 0, 0, 7, 128, 255, 1);
    assert_int_equal(out[6].tensor->ndim, 0);
    PF_ASSERT_VALUES(out[6].tensor, 0, 2.5);
    assert_int_equal(out[7].tensor->ndim, 0);
    assert_true(pf_data_i64(out[7].tensor)[0] == -42);
    PF_ASSERT_SHAPE(out[8].tensor, 0, 3);
    PF_ASSERT_SHAPE(out[9].tensor, 4, 0);
    PF_ASSERT_VALUES(out[10].tensor, 0, 1);

    assert_ptr_equal(pf_named_find(out, n, "w.T"), out[1].tensor);
    assert_ptr_equal(pf_named_find(out, n, "naïve.ünïcode"), out[10].tensor);
    assert_null(pf_named_find(out, n, "missing"));
    assert_null(pf_named_find(out, n, ""));
    assert_null(pf_named_find(NULL, 0, "w"));
    PF_CHECK(pf_ok());
    remove(path);
}

static void test_save_requires_grad_tensor_records_nothing(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = "test_safetensors_grad.safetensors";
    pf_tensor *p = pf_requires_grad(pf_from_f64(ctx, (double[]){1, 2, 3, 4}, PF_DIMS(2, 2)), true);
    pf_tensor *pt = pf_transpose(ctx, p, 0, 1);
    PF_CHECK(pf_safetensors_save(path, 1, (pf_named_tensor[]){{"p.T", pt}}));
    assert_true(pf_is_grad_enabled());
    pf_named_tensor *out;
    PF_CHECK(pf_safetensors_load(ctx, path, &out) == 1);
    PF_ASSERT_VALUES(out[0].tensor, 0, 1, 3, 2, 4);
    remove(path);
}

static void test_no_tensors(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = "test_safetensors_none.safetensors";
    PF_CHECK(pf_safetensors_save(path, 0, NULL));
    size_t size;
    uint8_t *b = read_file(path, &size);
    assert_int_equal(size, 16);
    assert_int_equal(header_length(b), 8);
    assert_memory_equal(b + 8, "{}      ", 8);
    free(b);
    pf_named_tensor *out = NULL;
    PF_CHECK(pf_safetensors_load(ctx, path, &out) == 0);
    assert_non_null(out);
    remove(path);
}

/* The header is padded with spaces to a multiple of 8, for every length of
 * name, and the data follows it exactly. */
static void test_header_padded_to_8(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = "test_safetensors_pad.safetensors";
    char name[16] = "";
    for (int len = 1; len <= 9; len++) {
        name[len - 1] = (char)('a' + len - 1);
        name[len] = '\0';
        pf_tensor *t = pf_from_u8(ctx, (uint8_t[]){9, 8, 7}, PF_DIMS(3));
        PF_CHECK(pf_safetensors_save(path, 1, (pf_named_tensor[]){{name, t}}));
        size_t size;
        uint8_t *b = read_file(path, &size);
        uint64_t n = header_length(b);
        assert_int_equal(n % 8, 0);
        assert_int_equal(size, 8 + n + 3);
        assert_int_equal(b[8], '{');
        size_t end = 8 + (size_t)n;
        while (b[end - 1] == ' ')
            end--;
        assert_int_equal(b[end - 1], '}');
        assert_true(8 + n - end < 8);
        assert_memory_equal(b + 8 + n, ((uint8_t[]){9, 8, 7}), 3);
        free(b);
        pf_named_tensor *out;
        PF_CHECK(pf_safetensors_load(ctx, path, &out) == 1);
        assert_string_equal(out[0].name, name);
    }
    remove(path);
}

static void test_metadata_skipped(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *out;
    int n = parse_image(ctx,
                        "{\"__metadata__\":{\"format\":\"pt\",\"x\":\"y\"},"
                        "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
                        "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"extra\":[1]}}   ",
                        4, &out);
    PF_CHECK(n == 2);
    /* In the order of their data, not of the header. */
    assert_string_equal(out[0].name, "a");
    assert_string_equal(out[1].name, "b");
    PF_ASSERT_VALUES(out[0].tensor, 0, 0, 1);
    PF_ASSERT_VALUES(out[1].tensor, 0, 2, 3);
    assert_null(pf_named_find(out, n, "__metadata__"));
}

/* Zero-sized tensors may share an offset with the next tensor. */
static void test_zero_sized_tensors_between(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *out;
    int n = parse_image(ctx,
                        "\n {\"z2\":{\"dtype\":\"F64\",\"shape\":[0],\"data_offsets\":[4,4]},"
                        "\"b\":{\"dtype\":\"U8\",\"shape\":[2,2],\"data_offsets\":[4,8]},"
                        "\"z1\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[4,4]},"
                        "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}\t\r\n",
                        8, &out);
    PF_CHECK(n == 4);
    assert_string_equal(out[0].name, "a");
    assert_string_equal(out[1].name, "z2");
    assert_string_equal(out[2].name, "z1");
    assert_string_equal(out[3].name, "b");
    PF_ASSERT_SHAPE(out[2].tensor, 3, 0);
    PF_ASSERT_VALUES(out[3].tensor, 0, 4, 5, 6, 7);
}

/* A file written by Hugging Face's own library (make_reference_fixture.py). */
static void test_reference_written_file(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *out;
    int n = pf_safetensors_load(ctx, pf_test_path("golden/reference_written.safetensors"), &out);
    PF_CHECK(n == 7);
    const char *order[] = {"labels", "step", "scale", "0.bias", "0.weight", "empty", "pixels"};
    for (int i = 0; i < n; i++)
        assert_string_equal(out[i].name, order[i]);

    pf_tensor *w = pf_named_find(out, n, "0.weight");
    PF_ASSERT_SHAPE(w, 2, 3);
    assert_int_equal(w->dtype, PF_F32);
    PF_ASSERT_VALUES(w, 0, -1, -0.5, 0, 0.5, 1, 1.5);
    pf_tensor *b = pf_named_find(out, n, "0.bias");
    PF_ASSERT_VALUES(b, 0, 0.25, -0.75);
    pf_tensor *s = pf_named_find(out, n, "scale");
    assert_int_equal(s->dtype, PF_F64);
    PF_ASSERT_VALUES(s, 0, 1.0 / 3, -2.5, 1e-300);
    pf_tensor *l = pf_named_find(out, n, "labels");
    assert_int_equal(l->dtype, PF_I64);
    const int64_t *lv = pf_data_i64(l);
    assert_true(lv[0] == 0 && lv[1] == -1 && lv[2] == (int64_t)1 << 40 && lv[3] == 7);
    pf_tensor *p = pf_named_find(out, n, "pixels");
    assert_int_equal(p->dtype, PF_U8);
    PF_ASSERT_VALUES(p, 0, 0, 1, 128, 255);
    pf_tensor *st = pf_named_find(out, n, "step");
    assert_int_equal(st->ndim, 0);
    assert_true(pf_data_i64(st)[0] == 42);
    PF_ASSERT_SHAPE(pf_named_find(out, n, "empty"), 0, 3);
}

/* ---- hostile inputs -------------------------------------------------------- */

typedef struct hostile {
    const char *json;
    size_t data_len;
    const char *error;
} hostile;

#define U8(offsets, shape) "{\"dtype\":\"U8\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

static const hostile hostile_headers[] = {
    {"{\"a\": ", 0, "not valid JSON"},
    {"", 0, "not valid JSON"},
    {"[1,2]", 0, "not a JSON object"},
    {"\"a\"", 0, "not a JSON object"},
    {"{} x", 0, "trailing bytes"},
    {"{}{}", 0, "trailing bytes"},
    {"{\"a\":3}", 0, "entry is not a JSON object"},
    {"{\"\":" U8("[0,1]", "[1]") "}", 1, "empty name"},
    {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "missing \"dtype\""},
    {"{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,4]}}", 4, "missing \"shape\""},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[4]}}", 4, "missing \"data_offsets\""},
    {"{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, "duplicate field"},
    {"{\"a\":{\"dtype\":\"X9\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype \"X9\""},
    {"{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype"},
    {"{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" is not a string"},
    {"{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype BF16 is not supported by profond"},
    {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "not supported by profond"},
    {"{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "not supported by profond"},
    {"{\"a\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, "not supported by profond"},
    {"{\"a\":" U8("[0,4]", "[-4]") "}", 4, "shape[0] is not a non-negative integer"},
    {"{\"a\":" U8("[0,4]", "[2, 2.5]") "}", 4, "shape[1] is not a non-negative integer"},
    {"{\"a\":" U8("[0,4]", "[\"4\"]") "}", 4, "shape[0] is not a non-negative integer"},
    {"{\"a\":" U8("[0,4]", "[1e400]") "}", 4, "not a non-negative integer"},
    {"{\"a\":" U8("[0,4]", "[9007199254740994]") "}", 4, "not a non-negative integer"},
    {"{\"a\":" U8("[0,4]", "[null]") "}", 4, "not a non-negative integer"},
    {"{\"a\":" U8("[0,4]", "4") "}", 4, "\"shape\" is not an array"},
    {"{\"a\":" U8("[0,1]", "[1,1,1,1,1,1,1,1,1]") "}", 1, "9 dimensions"},
    {"{\"a\":" U8("[0,16]", "[4294967296,4294967296,16]") "}", 16, "overflows"},
    {"{\"a\":" U8("[0,0]", "[9007199254740992,9007199254740992,0]") "}", 0, "overflows"},
    {"{\"a\":" U8("[0,8]", "[8]") "}", 4, "past the end of the data"},
    {"{\"a\":" U8("[0,9007199254740992]", "[8]") "}", 4, "past the end of the data"},
    {"{\"a\":" U8("[4,0]", "[4]") "}", 4, "begins after its end"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes"},
    {"{\"a\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "needs 8 bytes"},
    {"{\"a\":" U8("[0,8]", "[8]") ",\"b\":" U8("[4,12]", "[8]") "}", 12, "overlap"},
    {"{\"a\":" U8("[0,8]", "[8]") ",\"b\":" U8("[0,8]", "[8]") "}", 8, "overlap"},
    {"{\"a\":" U8("[0,8]", "[8]") ",\"z\":" U8("[4,4]", "[0]") "}", 8, "overlap"},
    {"{\"a\":" U8("[0,4]", "[4]") ",\"b\":" U8("[8,12]", "[4]") "}", 12, "hole"},
    {"{\"b\":" U8("[4,8]", "[4]") "}", 8, "hole"},
    {"{\"a\":" U8("[0,4]", "[4]") "}", 8, "hole"},
    {"{\"a\":" U8("[0,4]", "[4]") ",\"a\":" U8("[4,8]", "[4]") "}", 8, "duplicate tensor name \"a\""},
    {"{\"a\\u0000x\":" U8("[0,4]", "[4]") ",\"a\":" U8("[4,8]", "[4]") "}", 8, "duplicate tensor name"},
    {"{\"a\":" U8("[0]", "[0]") "}", 0, "2 integers"},
    {"{\"a\":" U8("[0,4,4]", "[4]") "}", 4, "2 integers"},
    {"{\"a\":" U8("{}", "[4]") "}", 4, "2 integers"},
    {"{\"a\":" U8("[-1,3]", "[4]") "}", 4, "2 integers"},
    {"{\"a\":" U8("[0,\"4\"]", "[4]") "}", 4, "2 integers"},
    {"{\"__metadata__\":{\"k\":1}}", 0, "\"__metadata__\" value of \"k\" is not a string"},
    {"{\"__metadata__\":[]}", 0, "\"__metadata__\" is not a JSON object"},
    {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate \"__metadata__\""},
};

static void test_hostile_headers(void **state)
{
    pf_ctx *ctx = *state;
    for (size_t i = 0; i < sizeof hostile_headers / sizeof *hostile_headers; i++) {
        const hostile *h = &hostile_headers[i];
        pf_named_tensor *out = (pf_named_tensor *)&out; /* must be reset */
        int n = parse_image(ctx, h->json, h->data_len, &out);
        if (n != -1 || !pf_error() || !strstr(pf_error(), h->error))
            print_error("case %zu: %s\n  returned %d, error: %s\n  expected an error containing: %s\n", i, h->json, n,
                        pf_error() ? pf_error() : "(none)", h->error);
        assert_int_equal(n, -1);
        assert_null(out);
        assert_non_null(strstr(pf_error(), "pf_safetensors_parse: buffer: "));
        PF_ASSERT_ERROR(h->error);
    }
}

static void test_hostile_lengths(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *out;
    static const uint8_t zeros[16];

    assert_int_equal(pf_safetensors_parse(ctx, zeros, 0, &out), -1);
    PF_ASSERT_ERROR("too short");
    assert_int_equal(pf_safetensors_parse(ctx, NULL, 0, &out), -1);
    PF_ASSERT_ERROR("too short");
    assert_int_equal(pf_safetensors_parse(ctx, zeros, 7, &out), -1);
    PF_ASSERT_ERROR("too short: 7 bytes");
    assert_int_equal(pf_safetensors_parse(ctx, NULL, 100, &out), -1);
    PF_ASSERT_ERROR("NULL buffer");
    assert_int_equal(pf_safetensors_parse(NULL, zeros, 16, &out), -1);
    PF_ASSERT_ERROR("NULL context");
    assert_int_equal(pf_safetensors_parse(ctx, zeros, 16, NULL), -1);
    PF_ASSERT_ERROR("NULL output");

    /* A header length of 0: an empty header is not JSON. */
    assert_int_equal(pf_safetensors_parse(ctx, zeros, 8, &out), -1);
    PF_ASSERT_ERROR("not valid JSON");

    /* Header length past the end of the file. */
    uint8_t past[20] = {13, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    assert_int_equal(pf_safetensors_parse(ctx, past, sizeof past, &out), -1);
    PF_ASSERT_ERROR("header length 13 at offset 0 runs past the end of the file (20 bytes)");

    /* 2^63, and every other length past the limit of 100 MB. */
    uint8_t huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'};
    assert_int_equal(pf_safetensors_parse(ctx, huge, sizeof huge, &out), -1);
    PF_ASSERT_ERROR("header length 9223372036854775808 at offset 0 exceeds the limit");
    uint8_t all_ones[16];
    memset(all_ones, 0xff, sizeof all_ones);
    assert_int_equal(pf_safetensors_parse(ctx, all_ones, sizeof all_ones, &out), -1);
    PF_ASSERT_ERROR("exceeds the limit");
    uint8_t limit[16] = {0x01, 0xe1, 0xf5, 0x05}; /* 100000001 */
    assert_int_equal(pf_safetensors_parse(ctx, limit, sizeof limit, &out), -1);
    PF_ASSERT_ERROR("exceeds the limit of 100000000 bytes");
}

static void test_hostile_bytes_in_header(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *out;
    /* Invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate. */
    const char *bad[] = {"{\"a\x80\":{}}", "{\"\xc0\xaf\":{}}", "{\"\xed\xa0\x80\":{}}", "{\"\xf4\x90\x80\x80\":{}}",
                         "{\"\xe2\x82\":{}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse_image(ctx, bad[i], 0, &out), -1);
        PF_ASSERT_ERROR(i == 0 ? "header is not valid UTF-8 (byte at offset 11)" : "not valid UTF-8");
    }
    /* A NUL inside the header. */
    uint8_t nul[] = {4, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, ' '};
    assert_int_equal(pf_safetensors_parse(ctx, nul, sizeof nul, &out), -1);
    PF_ASSERT_ERROR("trailing bytes after its JSON (offset 10)");
    /* Deep nesting is refused by cJSON, not by the stack. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    assert_int_equal(parse_image(ctx, deep, 0, &out), -1);
    PF_ASSERT_ERROR("not valid JSON");
    free(deep);
}

/* Every strict prefix of a valid file is refused, without reading past it
 * (the sanitizer build checks the reads). */
static void test_truncated_files(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = "test_safetensors_truncated.safetensors";
    pf_named_tensor in[] = {
        {"w", pf_from_f32(ctx, (float[]){1, 2, 3, 4, 5, 6}, PF_DIMS(2, 3))},
        {"s", pf_from_f64(ctx, (double[]){7}, 0, NULL)},
        {"i", pf_from_i64(ctx, (int64_t[]){8, 9}, PF_DIMS(2))},
        {"u", pf_from_u8(ctx, (uint8_t[]){10}, PF_DIMS(1, 1))},
    };
    PF_CHECK(pf_safetensors_save(path, 4, in));
    size_t size;
    uint8_t *full = read_file(path, &size);
    pf_named_tensor *out;
    PF_CHECK(pf_safetensors_parse(ctx, full, size, &out) == 4);
    for (size_t len = 0; len < size; len++) {
        /* A copy of exactly len bytes, so that any overread is caught. */
        uint8_t *cut = malloc(len ? len : 1);
        assert_non_null(cut);
        memcpy(cut, full, len);
        int n = pf_safetensors_parse(ctx, cut, len, &out);
        free(cut);
        if (n != -1)
            print_error("a prefix of %zu of %zu bytes parsed\n", len, size);
        assert_int_equal(n, -1);
        assert_non_null(pf_error());
        pf_error_clear();
    }
    /* And on disk: the error names the file. */
    write_file(path, full, size - 1);
    assert_int_equal(pf_safetensors_load(ctx, path, &out), -1);
    PF_ASSERT_ERROR("pf_safetensors_load: test_safetensors_truncated.safetensors: tensor \"u\": "
                    "data_offsets [48, 49] end past the end of the data (48 bytes)");
    write_file(path, full, 5);
    assert_int_equal(pf_safetensors_load(ctx, path, &out), -1);
    PF_ASSERT_ERROR("pf_safetensors_load: test_safetensors_truncated.safetensors: too short: 5 bytes");
    free(full);
    remove(path);
}

/* ---- files -------------------------------------------------------------------- */

static void test_load_missing_file_names_it(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *out = (pf_named_tensor *)&out;
    assert_int_equal(pf_safetensors_load(ctx, "does_not_exist.safetensors", &out), -1);
    assert_null(out);
    PF_ASSERT_ERROR("pf_safetensors_load: does_not_exist.safetensors: cannot open");
    assert_int_equal(pf_safetensors_load(ctx, ".", &out), -1);
    PF_ASSERT_ERROR("pf_safetensors_load: .: not a regular file");
    assert_int_equal(pf_safetensors_load(ctx, NULL, &out), -1);
    PF_ASSERT_ERROR("NULL path");
}

static void test_save_into_missing_folder(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *t = pf_ones(ctx, PF_DIMS(2));
    const char *path = "no_such_folder_for_safetensors/model.safetensors";
    assert_false(pf_safetensors_save(path, 1, (pf_named_tensor[]){{"t", t}}));
    PF_ASSERT_ERROR("pf_safetensors_save: no_such_folder_for_safetensors/model.safetensors: cannot create");
    assert_false(file_exists(path));
}

/* A save over an existing file replaces it; a failed save keeps it. */
static void test_atomic_save(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = "test_safetensors_atomic.safetensors";
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());

    pf_tensor *a = pf_from_f32(ctx, (float[]){1, 2, 3}, PF_DIMS(3));
    pf_tensor *b = pf_from_i64(ctx, (int64_t[]){4, 5}, PF_DIMS(2));
    PF_CHECK(pf_safetensors_save(path, 1, (pf_named_tensor[]){{"old", a}}));
    PF_CHECK(pf_safetensors_save(path, 2, (pf_named_tensor[]){{"new", b}, {"new.a", a}}));
    assert_false(file_exists(tmp));
    pf_named_tensor *out;
    int n = pf_safetensors_load(ctx, path, &out);
    PF_CHECK(n == 2);
    assert_null(pf_named_find(out, n, "old"));
    PF_ASSERT_VALUES(pf_named_find(out, n, "new"), 0, 4, 5);

    size_t before_size;
    uint8_t *before = read_file(path, &before_size);

    /* Refused arguments leave the old file alone. */
    pf_tensor fake_gpu = *a;
    fake_gpu.device = PF_CUDA;
    struct {
        pf_named_tensor list[2];
        int n;
        const char *error;
    } refused[] = {
        {{{"x", a}, {"x", b}}, 2, "duplicate tensor name \"x\""},
        {{{"", a}}, 1, "tensor 0 has an empty name"},
        {{{NULL, a}}, 1, "tensor 0 has an empty name"},
        {{{"x", a}, {"y", NULL}}, 2, "tensor \"y\" is NULL"},
        {{{"__metadata__", a}}, 1, "reserved"},
        {{{"bad\xff", a}}, 1, "not valid UTF-8"},
        {{{"gpu", &fake_gpu}}, 1, "tensor \"gpu\" is not on the CPU"},
        {{{"x", a}}, -1, "negative tensor count"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        assert_false(pf_safetensors_save(path, refused[i].n, refused[i].list));
        PF_ASSERT_ERROR(refused[i].error);
    }
    assert_false(pf_safetensors_save(path, 1, NULL));
    PF_ASSERT_ERROR("NULL tensor list");
    assert_false(pf_safetensors_save(NULL, 0, NULL));
    PF_ASSERT_ERROR("empty path");

    size_t after_size;
    uint8_t *after = read_file(path, &after_size);
    assert_int_equal(before_size, after_size);
    assert_memory_equal(before, after, before_size);
    assert_false(file_exists(tmp));
    free(before);
    free(after);
    remove(path);
}

/* A save whose rename fails (the target is a folder) removes its temporary
 * file and keeps the folder. */
static void test_failed_rename_cleans_up(void **state)
{
    pf_ctx *ctx = *state;
    const char *path = ".";
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    pf_tensor *a = pf_ones(ctx, PF_DIMS(2));
    assert_false(pf_safetensors_save(path, 1, (pf_named_tensor[]){{"a", a}}));
    PF_ASSERT_ERROR("pf_safetensors_save: .: cannot rename");
    assert_false(file_exists(tmp));
}

/* ---- the fuzz target's seeds (fuzz/fuzz_safetensors.c) --------------------
 * They must stay valid files. Inputs that ever crash the fuzz target are
 * added below as regression cases (none so far). */

static void test_fuzz_seeds_load(void **state)
{
    pf_ctx *ctx = *state;
    const struct {
        const char *file;
        int count;
    } seeds[] = {
        {"../fuzz/corpus/safetensors/two_f32.safetensors", 2},
        {"../fuzz/corpus/safetensors/metadata_empty.safetensors", 2},
        {"../fuzz/corpus/safetensors/reference_written.safetensors", 7},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        pf_named_tensor *out;
        PF_CHECK(pf_safetensors_load(ctx, pf_test_path(seeds[i].file), &out) == seeds[i].count);
    }
    pf_named_tensor *out;
    PF_CHECK(pf_safetensors_load(ctx, pf_test_path("../fuzz/corpus/safetensors/two_f32.safetensors"), &out) == 2);
    PF_ASSERT_VALUES(pf_named_find(out, 2, "a"), 0, 1.5, -2);
    PF_ASSERT_VALUES(pf_named_find(out, 2, "b"), 0, 7, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_every_dtype_and_layout, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_save_requires_grad_tensor_records_nothing, pf_test_setup,
                                        pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_no_tensors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_header_padded_to_8, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_metadata_skipped, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_zero_sized_tensors_between, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_reference_written_file, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_headers, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_lengths, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bytes_in_header, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_files, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_load_missing_file_names_it, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_save_into_missing_folder, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_atomic_save, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_failed_rename_cleans_up, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_fuzz_seeds_load, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
