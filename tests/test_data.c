/*
 * test_data.c — section 14 of profond.h: IDX files (every element type,
 * plain and gzip, and hostile or truncated files), MNIST-style data folders
 * (finding, loading, checking), the batch loader (normalisation, shuffling,
 * drop_last, memory), and scripts/check-mnist.sh.
 *
 * Small files are written into a temporary folder made for the run; MNIST
 * itself comes from PF_SHARED_DATA_DIR/mnist.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "testing.h"

#define MNIST_DIR PF_SHARED_DATA_DIR "/mnist"
/* torch: data.float().div(255).mean() / .std() over the 60000 training images */
#define MNIST_MEAN 0.13066047627
#define MNIST_STD 0.30810780713

/* ---- files in a temporary folder ----------------------------------------- */

static char tmp_dir[256];

static int make_tmp_dir(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/pf_test_data_XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
    (void)state;
    char command[512];
    if (strncmp(tmp_dir, "/tmp/pf_test_data_", 18) == 0) {
        snprintf(command, sizeof command, "rm -rf '%s'", tmp_dir);
        return system(command) == 0 ? 0 : -1;
    }
    return 0;
}

/* TMP/relative (static buffer, one of four in turn). */
static const char *tmp_path(const char *relative)
{
    static char paths[4][1024];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", tmp_dir, relative);
    return p;
}

static void make_dir(const char *relative) { assert_int_equal(mkdir(tmp_path(relative), 0755), 0); }

static void write_plain(const char *path, const uint8_t *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static void write_gzip(const char *path, const uint8_t *bytes, size_t size)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    if (size > 0)
        assert_int_equal(gzwrite(f, bytes, (unsigned)size), (int)size);
    assert_int_equal(gzclose(f), Z_OK);
}

/* The whole file, malloc'd; *size receives its length. */
static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *bytes = malloc(1 << 20);
    *size = fread(bytes, 1, 1 << 20, f);
    fclose(f);
    return bytes;
}

/* ---- IDX bytes ------------------------------------------------------------ */

typedef struct idx_file {
    uint8_t bytes[512];
    size_t size;
} idx_file;

static void put_be(idx_file *f, uint64_t value, int width)
{
    for (int i = width - 1; i >= 0; i--)
        f->bytes[f->size++] = (uint8_t)(value >> (8 * i));
}

/* Header for `type` and dimensions; the caller appends the data. */
static idx_file idx_header(uint8_t type, int ndim, const uint32_t *dims)
{
    idx_file f = {{0, 0, type, (uint8_t)ndim}, 4};
    for (int i = 0; i < ndim; i++)
        put_be(&f, dims[i], 4);
    return f;
}

/* Fails unless t has the given dtype, shape and values. */
static void assert_tensor(const pf_tensor *t, pf_dtype dtype, int ndim, const int64_t *shape,
                          const double *values)
{
    PF_CHECK(t != NULL);
    assert_int_equal(t->dtype, dtype);
    assert_int_equal(t->ndim, ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        assert_int_equal(t->shape[i], shape[i]);
        n *= shape[i];
    }
    double got[64];
    assert_true(n <= 64);
    PF_CHECK(pf_copy_to_f64(t, got));
    for (int64_t i = 0; i < n; i++) {
        if (memcmp(&got[i], &values[i], sizeof(double)) != 0 && got[i] != values[i])
            fail_msg("element %lld is %.17g, expected %.17g", (long long)i, got[i], values[i]);
        if (values[i] == 0 && signbit(got[i]) != signbit(values[i]))
            fail_msg("element %lld has the wrong sign of zero", (long long)i);
    }
}

/* Parses f from memory, and loads it written plain and gzipped. */
static void assert_round_trip(pf_ctx *ctx, const idx_file *f, const char *name, pf_dtype dtype, int ndim,
                              const int64_t *shape, const double *values)
{
    assert_tensor(pf_idx_parse(ctx, f->bytes, f->size), dtype, ndim, shape, values);
    char gz[256];
    snprintf(gz, sizeof gz, "%s.gz", name);
    write_plain(tmp_path(name), f->bytes, f->size);
    write_gzip(tmp_path(gz), f->bytes, f->size);
    assert_tensor(pf_idx_load(ctx, tmp_path(name)), dtype, ndim, shape, values);
    assert_tensor(pf_idx_load(ctx, tmp_path(gz)), dtype, ndim, shape, values);
}

static void test_idx_round_trip_uint8(void **state)
{
    idx_file f = idx_header(0x08, 2, (uint32_t[]){2, 3});
    const uint8_t v[] = {0, 1, 127, 128, 254, 255};
    for (int i = 0; i < 6; i++)
        put_be(&f, v[i], 1);
    assert_round_trip(*state, &f, "u8.idx", PF_U8, PF_DIMS(2, 3), (double[]){0, 1, 127, 128, 254, 255});
}

static void test_idx_round_trip_int8(void **state)
{
    idx_file f = idx_header(0x09, 1, (uint32_t[]){5});
    const uint8_t v[] = {0x00, 0x01, 0xff, 0x80, 0x7f};
    for (int i = 0; i < 5; i++)
        put_be(&f, v[i], 1);
    assert_round_trip(*state, &f, "i8.idx", PF_I64, PF_DIMS(5), (double[]){0, 1, -1, -128, 127});
}

static void test_idx_round_trip_int16(void **state)
{
    idx_file f = idx_header(0x0B, 3, (uint32_t[]){1, 2, 3});
    const uint16_t v[] = {0, 1, 0xffff, 0x8000, 0x7fff, 0x1234};
    for (int i = 0; i < 6; i++)
        put_be(&f, v[i], 2);
    assert_round_trip(*state, &f, "i16.idx", PF_I64, PF_DIMS(1, 2, 3),
                      (double[]){0, 1, -1, -32768, 32767, 0x1234});
}

static void test_idx_round_trip_int32(void **state)
{
    idx_file f = idx_header(0x0C, 2, (uint32_t[]){3, 2});
    const uint32_t v[] = {0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu, 123456789};
    for (int i = 0; i < 6; i++)
        put_be(&f, v[i], 4);
    assert_round_trip(*state, &f, "i32.idx", PF_I64, PF_DIMS(3, 2),
                      (double[]){0, 1, -1, -2147483648.0, 2147483647.0, 123456789});
}

static void test_idx_round_trip_float32(void **state)
{
    const float v[] = {0.0f, -0.0f, 1.5f, -2.25f, 3.4e38f, 1e-45f, 3.14159265f};
    idx_file f = idx_header(0x0D, 1, (uint32_t[]){7});
    for (int i = 0; i < 7; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        put_be(&f, bits, 4);
    }
    double expected[7];
    for (int i = 0; i < 7; i++)
        expected[i] = v[i];
    assert_round_trip(*state, &f, "f32.idx", PF_F32, PF_DIMS(7), expected);
}

static void test_idx_round_trip_float64(void **state)
{
    const double v[] = {0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, 3.14159265358979323846, -INFINITY};
    idx_file f = idx_header(0x0E, 2, (uint32_t[]){4, 2});
    for (int i = 0; i < 8; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], 8);
        put_be(&f, bits, 8);
    }
    assert_round_trip(*state, &f, "f64.idx", PF_F64, PF_DIMS(4, 2), v);
}

/* A dimension of size 0 is an empty tensor with no data, whatever the
 * other sizes are, as long as they make a valid shape. */
static void test_idx_empty_dimension(void **state)
{
    idx_file f = idx_header(0x08, 1, (uint32_t[]){0});
    pf_tensor *t = pf_idx_parse(*state, f.bytes, f.size);
    PF_ASSERT_SHAPE(t, 0);
    f = idx_header(0x0E, 3, (uint32_t[]){0xffffffffu, 0, 0xffffu});
    t = pf_idx_parse(*state, f.bytes, f.size);
    PF_ASSERT_SHAPE(t, 0xffffffff, 0, 0xffff);
    put_be(&f, 0, 1);
    assert_null(pf_idx_parse(*state, f.bytes, f.size));
    PF_ASSERT_ERROR("[4294967295,0,65535] of float64 need 0 data bytes after the 16-byte header, the file "
                    "has 1 (trailing bytes)");
    /* sizes whose product (zero aside) no tensor can have */
    f = idx_header(0x0E, 8, (uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                                         0xffffffffu, 0xffffffffu, 0});
    assert_null(pf_idx_parse(*state, f.bytes, f.size));
    PF_ASSERT_ERROR("hold 2^59 elements or more, too many for a tensor");
}

/* An int16 [2, 3] file is 24 bytes: every shorter prefix is an error that
 * says what is missing, from memory and from a file. */
static void test_idx_every_truncation(void **state)
{
    idx_file f = idx_header(0x0B, 2, (uint32_t[]){2, 3});
    for (int i = 0; i < 6; i++)
        put_be(&f, (uint64_t)(i * 1000), 2);
    assert_int_equal(f.size, 24);
    PF_CHECK(pf_idx_parse(*state, f.bytes, f.size) != NULL);
    for (size_t n = 0; n < f.size; n++) {
        assert_null(pf_idx_parse(*state, f.bytes, n));
        char expected[128];
        if (n < 4)
            snprintf(expected, sizeof expected, "pf_idx_parse: %zu bytes: too short", n);
        else if (n < 12)
            snprintf(expected, sizeof expected, "truncated header: 2 dimensions need a 12-byte header, the file "
                                                "has %zu bytes", n);
        else
            snprintf(expected, sizeof expected, "[2,3] of int16 need 12 data bytes after the 12-byte header, "
                                                "the file has %zu (truncated)", n - 12);
        PF_ASSERT_ERROR(expected);

        write_plain(tmp_path("cut.idx"), f.bytes, n);
        assert_null(pf_idx_load(*state, tmp_path("cut.idx")));
        char with_path[1200];
        snprintf(with_path, sizeof with_path, "pf_idx_load: %s: ", tmp_path("cut.idx"));
        if (strncmp(pf_error(), with_path, strlen(with_path)) != 0)
            fail_msg("error does not start with \"%s\": %s", with_path, pf_error());
        PF_ASSERT_ERROR(n < 4 ? "too short" : "truncated");
    }
}

static void test_idx_hostile_headers(void **state)
{
    pf_ctx *ctx = *state;
    idx_file f = idx_header(0x08, 1, (uint32_t[]){1});
    put_be(&f, 7, 1);
    PF_CHECK(pf_idx_parse(ctx, f.bytes, f.size) != NULL);

    idx_file bad = f;
    bad.bytes[0] = 0x01;
    assert_null(pf_idx_parse(ctx, bad.bytes, bad.size));
    PF_ASSERT_ERROR("bad magic 0x01 0x00 at offset 0");
    bad = f;
    bad.bytes[1] = 0x08;
    assert_null(pf_idx_parse(ctx, bad.bytes, bad.size));
    PF_ASSERT_ERROR("bad magic 0x00 0x08");

    bad = f;
    bad.bytes[2] = 0x0A;
    assert_null(pf_idx_parse(ctx, bad.bytes, bad.size));
    PF_ASSERT_ERROR("unknown element type 0x0a at offset 2");

    /* zero dimensions, and nine (one more than PF_MAX_DIMS) */
    idx_file zero = idx_header(0x08, 0, NULL);
    put_be(&zero, 7, 1);
    assert_null(pf_idx_parse(ctx, zero.bytes, zero.size));
    PF_ASSERT_ERROR("0 dimensions at offset 3 (1 to 8 are supported)");
    idx_file nine = idx_header(0x08, 9, (uint32_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    put_be(&nine, 7, 1);
    assert_null(pf_idx_parse(ctx, nine.bytes, nine.size));
    PF_ASSERT_ERROR("9 dimensions");
    idx_file eight = idx_header(0x08, 8, (uint32_t[]){1, 1, 1, 1, 1, 1, 1, 1});
    put_be(&eight, 7, 1);
    PF_CHECK(pf_idx_parse(ctx, eight.bytes, eight.size) != NULL);

    /* sizes whose product overflows, or exceeds what a tensor may hold, or
     * only what the file holds */
    idx_file huge = idx_header(0x08, 8, (uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                                                     0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu});
    put_be(&huge, 7, 1);
    assert_null(pf_idx_parse(ctx, huge.bytes, huge.size));
    PF_ASSERT_ERROR("hold 2^59 elements or more, too many for a tensor (the file has 1 data bytes after its "
                    "36-byte header)");
    idx_file wide = idx_header(0x0E, 4, (uint32_t[]){65536, 65536, 65536, 65536});
    assert_null(pf_idx_parse(ctx, wide.bytes, wide.size));
    PF_ASSERT_ERROR("[65536,65536,65536,65536] of float64 hold 2^59 elements or more");
    idx_file big = idx_header(0x08, 2, (uint32_t[]){0xffffffffu, 4096});
    put_be(&big, 7, 1);
    assert_null(pf_idx_parse(ctx, big.bytes, big.size));
    PF_ASSERT_ERROR("[4294967295,4096] of uint8 need 17592186040320 data bytes after the 12-byte header, the file "
                    "has 1 (truncated)");

    /* trailing bytes */
    idx_file longer = f;
    put_be(&longer, 0, 1);
    assert_null(pf_idx_parse(ctx, longer.bytes, longer.size));
    PF_ASSERT_ERROR("need 1 data bytes after the 8-byte header, the file has 2 (trailing bytes)");
    write_plain(tmp_path("long.idx.gz"), longer.bytes, longer.size);
    assert_null(pf_idx_load(ctx, tmp_path("long.idx.gz")));
    PF_ASSERT_ERROR("trailing bytes");

    assert_null(pf_idx_parse(ctx, NULL, 0));
    PF_ASSERT_ERROR("0 bytes: too short");
    assert_null(pf_idx_parse(NULL, f.bytes, f.size));
    PF_ASSERT_ERROR("NULL context");
}

static void test_idx_missing_file(void **state)
{
    assert_null(pf_idx_load(*state, tmp_path("no-such-file")));
    PF_ASSERT_ERROR("no-such-file: cannot open: No such file or directory");
    assert_null(pf_idx_load(*state, NULL));
    PF_ASSERT_ERROR("pf_idx_load: NULL path");
    write_plain(tmp_path("empty.idx"), (const uint8_t *)"", 0);
    assert_null(pf_idx_load(*state, tmp_path("empty.idx")));
    PF_ASSERT_ERROR("0 bytes: too short");
    assert_null(pf_idx_load(*state, tmp_dir));
    PF_ASSERT_ERROR("pf_idx_load");
}

/* A small valid IDX file, gzipped, then cut at every length: each cut is an
 * error (a truncated stream), never a short read. */
static void test_idx_truncated_gzip(void **state)
{
    idx_file f = idx_header(0x08, 2, (uint32_t[]){4, 5});
    for (int i = 0; i < 20; i++)
        put_be(&f, (uint64_t)(i * 13), 1);
    write_gzip(tmp_path("whole.gz"), f.bytes, f.size);
    size_t size;
    uint8_t *gz = read_whole(tmp_path("whole.gz"), &size);
    PF_CHECK(pf_idx_load(*state, tmp_path("whole.gz")) != NULL);
    for (size_t n = 0; n < size; n++) {
        write_plain(tmp_path("cut.gz"), gz, n);
        assert_null(pf_idx_load(*state, tmp_path("cut.gz")));
        if (n == 0)
            PF_ASSERT_ERROR("0 bytes: too short");
        else if (n == 1)
            PF_ASSERT_ERROR("1 bytes: too short"); /* one byte is not the gzip magic */
        else
            PF_ASSERT_ERROR("truncated gzip file");
    }
    free(gz);
}

static void test_idx_bad_gzip(void **state)
{
    pf_ctx *ctx = *state;
    /* valid gzip holding something that is not IDX */
    const char *text = "hello, this is not an IDX file\n";
    write_gzip(tmp_path("text.gz"), (const uint8_t *)text, strlen(text));
    assert_null(pf_idx_load(ctx, tmp_path("text.gz")));
    PF_ASSERT_ERROR("bad magic 0x68 0x65 at offset 0");

    idx_file f = idx_header(0x0C, 1, (uint32_t[]){40});
    for (int i = 0; i < 40; i++)
        put_be(&f, (uint64_t)(i * 7919), 4);
    write_gzip(tmp_path("good.gz"), f.bytes, f.size);
    size_t size;
    uint8_t *gz = read_whole(tmp_path("good.gz"), &size);

    /* a wrong checksum in the trailer */
    gz[size - 6] ^= 0x55;
    write_plain(tmp_path("crc.gz"), gz, size);
    assert_null(pf_idx_load(ctx, tmp_path("crc.gz")));
    PF_ASSERT_ERROR("corrupt gzip data");
    gz[size - 6] ^= 0x55;

    /* damaged deflate data: every byte flipped in turn, never a crash, and
     * an error unless the damage happens to leave a valid file */
    for (size_t i = 10; i < size - 8; i++) {
        gz[i] ^= 0xff;
        write_plain(tmp_path("flip.gz"), gz, size);
        if (!pf_idx_load(ctx, tmp_path("flip.gz")))
            PF_ASSERT_ERROR("pf_idx_load");
        gz[i] ^= 0xff;
    }

    /* garbage after the gzip data */
    uint8_t *longer = malloc(size + 3);
    memcpy(longer, gz, size);
    memcpy(longer + size, "xyz", 3);
    write_plain(tmp_path("tail.gz"), longer, size + 3);
    assert_null(pf_idx_load(ctx, tmp_path("tail.gz")));
    PF_ASSERT_ERROR("bytes after the end of the gzip data");
    free(longer);

    /* two concatenated gzip members are one valid stream (as gzip -d) */
    write_gzip(tmp_path("part1.gz"), f.bytes, 30);
    write_gzip(tmp_path("part2.gz"), f.bytes + 30, f.size - 30);
    size_t size1, size2;
    uint8_t *part1 = read_whole(tmp_path("part1.gz"), &size1);
    uint8_t *part2 = read_whole(tmp_path("part2.gz"), &size2);
    uint8_t *both = malloc(size1 + size2);
    memcpy(both, part1, size1);
    memcpy(both + size1, part2, size2);
    write_plain(tmp_path("both.gz"), both, size1 + size2);
    pf_tensor *t = pf_idx_load(ctx, tmp_path("both.gz"));
    PF_ASSERT_SHAPE(t, 40);
    assert_int_equal(pf_data_i64(t)[39], 39 * 7919);
    free(part1);
    free(part2);
    free(both);
    free(gz);
}

/* Inputs the fuzzer (fuzz/fuzz_idx.c) found troublesome. */
static void test_idx_fuzz_regressions(void **state)
{
    /* uint8 [687865856,5570816,0,1599229697,1566399837,...] plus one byte:
     * an empty shape whose strides overflowed int64 in pf_empty (undefined
     * behaviour); now refused before any tensor is made. */
    static const uint8_t empty_but_huge[] = {
        0x00, 0x00, 0x08, 0x08, 0x29, 0x00, 0x00, 0x00, 0x00, 0x55, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5f, 0x52,
        0x4f, 0x01, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x5d, 0x2a};
    assert_null(pf_idx_parse(*state, empty_but_huge, sizeof empty_but_huge));
    PF_ASSERT_ERROR("hold 2^59 elements or more");

    static const uint8_t nan32[] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0x7f, 0xc0, 0, 0};
    pf_tensor *t = pf_idx_parse(*state, nan32, sizeof nan32);
    PF_CHECK(t != NULL);
    assert_true(isnan(pf_data_f32(t)[0]));
}

/* ---- data folders --------------------------------------------------------- */

static void assert_close_at(double actual, double expected, double tolerance, const char *file, int line)
{
    if (!(fabs(actual - expected) <= tolerance))
        fail_msg("%s:%d: %.9g, expected %.9g (tolerance %g)", file, line, actual, expected, tolerance);
}
#define assert_close(actual, expected, tolerance) \
    assert_close_at((actual), (expected), (tolerance), __FILE__, __LINE__)

static double seconds_now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_mnist_train(void **state)
{
    pf_dataset d;
    double start = seconds_now();
    PF_CHECK(pf_dataset_load(*state, MNIST_DIR, true, &d));
    printf("# loading MNIST's training set (60000 images, gzip): %.3f s\n", seconds_now() - start);
    assert_int_equal(d.count, 60000);
    assert_int_equal(d.classes, 10);
    assert_string_equal(d.name, "mnist");
    PF_ASSERT_SHAPE(d.images, 60000, 28, 28);
    assert_int_equal(d.images->dtype, PF_U8);
    PF_ASSERT_SHAPE(d.labels, 60000);
    assert_int_equal(d.labels->dtype, PF_I64);
    const int64_t *labels = pf_data_i64(d.labels);
    const int64_t first[] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
    for (int i = 0; i < 10; i++)
        assert_int_equal(labels[i], first[i]);
    const uint8_t *pixels = pf_data_u8(d.images);
    assert_int_equal(pixels[5 * 28 + 12], 3); /* image 0, row 5, columns 12 and 21 */
    assert_int_equal(pixels[5 * 28 + 21], 255);
    assert_close(d.mean, MNIST_MEAN, 1e-6);
    assert_close(d.std, MNIST_STD, 1e-6);
}

static void test_mnist_test_split(void **state)
{
    pf_dataset d;
    double start = seconds_now();
    PF_CHECK(pf_dataset_load(*state, MNIST_DIR "/", false, &d));
    printf("# loading MNIST's test set (10000 images; mean/std from the training images): %.3f s\n",
           seconds_now() - start);
    assert_int_equal(d.count, 10000);
    assert_string_equal(d.name, "mnist");
    PF_ASSERT_SHAPE(d.images, 10000, 28, 28);
    PF_ASSERT_SHAPE(d.labels, 10000);
    const int64_t first[] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
    for (int i = 0; i < 10; i++)
        assert_int_equal(pf_data_i64(d.labels)[i], first[i]);
    /* normalised with the training statistics */
    assert_close(d.mean, MNIST_MEAN, 1e-6);
    assert_close(d.std, MNIST_STD, 1e-6);
    /* only the test images stay in the context (plus its labels) */
    pf_ctx_stats s = pf_ctx_get_stats(*state);
    assert_true(s.used_bytes < 10000 * 784 + 10000 * 8 + 65536);
}

static void test_data_find_env(void **state)
{
    const char *old = getenv("PROFOND_DATA");
    char *saved = old ? strdup(old) : NULL;
    assert_int_equal(setenv("PROFOND_DATA", PF_SHARED_DATA_DIR, 1), 0);
    char dir[4096];
    PF_CHECK(pf_data_find("mnist", dir, sizeof dir));
    assert_string_equal(dir, PF_SHARED_DATA_DIR "/mnist");
    /* too small a buffer */
    char tiny[8];
    assert_false(pf_data_find("mnist", tiny, sizeof tiny));
    PF_ASSERT_ERROR("does not fit in a buffer of 8 bytes");

    pf_dataset d;
    PF_CHECK(pf_dataset_load(*state, "mnist", false, &d));
    assert_int_equal(d.count, 10000);
    assert_string_equal(d.name, "mnist");

    /* nothing under the root: the error lists where it looked */
    assert_int_equal(setenv("PROFOND_DATA", tmp_path("nowhere"), 1), 0);
    assert_false(pf_data_find("mnist", dir, sizeof dir));
    char expected[1200];
    snprintf(expected, sizeof expected, "no data folder for \"mnist\": looked in %s/mnist, mnist",
             tmp_path("nowhere"));
    PF_ASSERT_ERROR(expected);
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist", &st) != 0) {
        assert_false(pf_data_find("fashion-mnist", dir, sizeof dir));
        PF_ASSERT_ERROR("/usr/share/datasets/fashion-mnist");
    }
    assert_false(pf_dataset_load(*state, "mnist", true, &d));
    PF_ASSERT_ERROR("pf_data_find: no data folder for \"mnist\"");
    assert_null(d.images);

    if (saved) {
        setenv("PROFOND_DATA", saved, 1);
        free(saved);
    } else {
        unsetenv("PROFOND_DATA");
    }
}

/* Without PROFOND_DATA, names are looked up under ./data; a folder is taken
 * as it is. */
static void test_data_find_default_and_dirs(void **state)
{
    (void)state;
    const char *old = getenv("PROFOND_DATA");
    char *saved = old ? strdup(old) : NULL;
    unsetenv("PROFOND_DATA");
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    make_dir("home");
    make_dir("home/data");
    make_dir("home/data/mnist");
    assert_int_equal(chdir(tmp_path("home")), 0);
    char dir[4096];
    bool found = pf_data_find("mnist", dir, sizeof dir);
    assert_int_equal(chdir(cwd), 0);
    PF_CHECK(found);
    assert_string_equal(dir, "data/mnist");

    PF_CHECK(pf_data_find(tmp_path("home/data"), dir, sizeof dir));
    assert_string_equal(dir, tmp_path("home/data"));
    assert_false(pf_data_find(tmp_path("no/such/dir"), dir, sizeof dir));
    PF_ASSERT_ERROR("no/such/dir");
    assert_false(pf_data_find("", dir, sizeof dir));
    PF_ASSERT_ERROR("empty name");
    if (saved) {
        setenv("PROFOND_DATA", saved, 1);
        free(saved);
    }
}

/* ---- a tiny data folder written by the test ------------------------------- */

/* uint8 images [n, 2, 3] with pixel k of image i = (i * 40 + k * 7) % 256. */
static idx_file tiny_images(uint32_t n)
{
    idx_file f = idx_header(0x08, 3, (uint32_t[]){n, 2, 3});
    for (uint32_t i = 0; i < n; i++)
        for (int k = 0; k < 6; k++)
            put_be(&f, (i * 40 + (uint32_t)k * 7) % 256, 1);
    return f;
}

static idx_file tiny_labels(uint32_t n, uint8_t first)
{
    idx_file f = idx_header(0x08, 1, (uint32_t[]){n});
    for (uint32_t i = 0; i < n; i++)
        put_be(&f, i == 0 ? first : i % 10, 1);
    return f;
}

/* DIR/NAME, plain or gzipped. */
static void write_part(const char *dir, const char *name, const idx_file *f, bool gz)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s%s", tmp_path(dir), name, gz ? ".gz" : "");
    (gz ? write_gzip : write_plain)(path, f->bytes, f->size);
}

static void test_dataset_tiny(void **state)
{
    make_dir("tiny");
    idx_file train_x = tiny_images(4), test_x = tiny_images(2);
    idx_file train_y = tiny_labels(4, 3), test_y = tiny_labels(2, 9);
    write_part("tiny", "train-images-idx3-ubyte", &train_x, false);
    write_part("tiny", "train-labels-idx1-ubyte", &train_y, true);
    write_part("tiny", "t10k-images-idx3-ubyte", &test_x, true);
    write_part("tiny", "t10k-labels-idx1-ubyte", &test_y, false);

    double sum = 0, squares = 0;
    for (int i = 0; i < 24; i++)
        sum += train_x.bytes[16 + i] / 255.0;
    double mean = sum / 24;
    for (int i = 0; i < 24; i++)
        squares += pow(train_x.bytes[16 + i] / 255.0 - mean, 2);
    double std = sqrt(squares / 23);

    pf_dataset d;
    PF_CHECK(pf_dataset_load(*state, tmp_path("tiny"), true, &d));
    assert_int_equal(d.count, 4);
    assert_string_equal(d.name, "tiny");
    PF_ASSERT_SHAPE(d.images, 4, 2, 3);
    PF_ASSERT_VALUES(d.labels, 0, 3, 1, 2, 3);
    assert_close(d.mean, mean, 1e-6);
    assert_close(d.std, std, 1e-6);

    PF_CHECK(pf_dataset_load(*state, tmp_path("tiny"), false, &d));
    assert_int_equal(d.count, 2);
    PF_ASSERT_VALUES(d.labels, 0, 9, 1);
    PF_ASSERT_VALUES(d.images, 0, 0, 7, 14, 21, 28, 35, 40, 47, 54, 61, 68, 75);
    assert_close(d.mean, mean, 1e-6); /* the training statistics */
    assert_close(d.std, std, 1e-6);

    /* loading the training split needs no test file */
    char path[1200];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", tmp_path("tiny"));
    assert_int_equal(remove(path), 0);
    PF_CHECK(pf_dataset_load(*state, tmp_path("tiny"), true, &d));
    assert_false(pf_dataset_load(*state, tmp_path("tiny"), false, &d));
    PF_ASSERT_ERROR("neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz is there");
}

/* Writes the four files of a folder, the training ones given. */
static void write_bad_folder(const char *dir, idx_file train_x, idx_file train_y)
{
    make_dir(dir);
    idx_file test_x = tiny_images(2), test_y = tiny_labels(2, 0);
    write_part(dir, "train-images-idx3-ubyte", &train_x, false);
    write_part(dir, "train-labels-idx1-ubyte", &train_y, false);
    write_part(dir, "t10k-images-idx3-ubyte", &test_x, false);
    write_part(dir, "t10k-labels-idx1-ubyte", &test_y, false);
}

static void test_dataset_bad_folders(void **state)
{
    pf_dataset d;
    write_bad_folder("label10", tiny_images(4), tiny_labels(4, 10));
    assert_false(pf_dataset_load(*state, tmp_path("label10"), true, &d));
    PF_ASSERT_ERROR("train label 10 at index 0 is outside 0..9");
    assert_null(d.images);

    write_bad_folder("count", tiny_images(4), tiny_labels(3, 1));
    assert_false(pf_dataset_load(*state, tmp_path("count"), true, &d));
    PF_ASSERT_ERROR("3 train labels for 4 images");

    idx_file flat = idx_header(0x08, 2, (uint32_t[]){4, 6});
    for (int i = 0; i < 24; i++)
        put_be(&flat, 1, 1);
    write_bad_folder("flat", flat, tiny_labels(4, 1));
    assert_false(pf_dataset_load(*state, tmp_path("flat"), true, &d));
    PF_ASSERT_ERROR("train images are uint8 [4,6], expected uint8 [N, H, W]");
    /* the test split needs the training images too (for mean and std) */
    assert_false(pf_dataset_load(*state, tmp_path("flat"), false, &d));
    PF_ASSERT_ERROR("train images are uint8 [4,6]");

    idx_file floats = idx_header(0x0D, 1, (uint32_t[]){4});
    for (int i = 0; i < 4; i++)
        put_be(&floats, 0x3f800000, 4);
    write_bad_folder("floatlabels", tiny_images(4), floats);
    assert_false(pf_dataset_load(*state, tmp_path("floatlabels"), true, &d));
    PF_ASSERT_ERROR("train labels are float32 [4], expected integers");

    make_dir("empty");
    assert_false(pf_dataset_load(*state, tmp_path("empty"), true, &d));
    PF_ASSERT_ERROR("neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is there");
    assert_false(pf_dataset_load(*state, tmp_path("missing"), true, &d));
    PF_ASSERT_ERROR("pf_data_find: no data folder");
}

/* ---- the loader ----------------------------------------------------------- */

/* A dataset of n images [1, 2] that encode their index: pixel 0 = i % 256,
 * pixel 1 = i / 256; label i % 10; mean 0, std 1, so that batches hold
 * pixel/255. */
static pf_dataset index_dataset(pf_ctx *ctx, int64_t n)
{
    pf_dataset d = {0};
    d.images = pf_empty(ctx, PF_U8, PF_DIMS(n, 1, 2));
    d.labels = pf_empty(ctx, PF_I64, PF_DIMS(n));
    uint8_t *x = pf_data_u8(d.images);
    int64_t *y = pf_data_i64(d.labels);
    for (int64_t i = 0; i < n; i++) {
        x[2 * i] = (uint8_t)(i % 256);
        x[2 * i + 1] = (uint8_t)(i / 256);
        y[i] = i % 10;
    }
    d.count = n;
    d.classes = 10;
    d.mean = 0;
    d.std = 1;
    return d;
}

/* Runs one epoch and writes the example indices in visiting order into
 * order (n of them at most); returns how many, and the batch sizes. */
static int64_t run_epoch(pf_loader *l, pf_ctx *step, int64_t *order, int64_t n, int64_t *sizes, int64_t *batches)
{
    int64_t seen = 0;
    *batches = 0;
    pf_tensor *x, *y;
    while (pf_loader_next(l, step, &x, &y)) {
        assert_int_equal(x->dtype, PF_F32);
        assert_int_equal(x->ndim, 4);
        assert_int_equal(x->shape[1], 1);
        int64_t b = x->shape[0];
        PF_ASSERT_SHAPE(y, b);
        const float *px = pf_data_f32(x);
        const int64_t *py = pf_data_i64(y);
        for (int64_t i = 0; i < b; i++) {
            int64_t index = lroundf(px[2 * i] * 255.0f) + 256 * lroundf(px[2 * i + 1] * 255.0f);
            assert_true(seen < n);
            order[seen++] = index;
            assert_int_equal(py[i], index % 10);
        }
        sizes[(*batches)++] = b;
        pf_ctx_reset(step);
    }
    PF_CHECK(pf_ok());
    assert_null(x);
    assert_null(y);
    return seen;
}

static void assert_permutation(const int64_t *order, int64_t n)
{
    char *seen = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {
        assert_in_range(order[i], 0, n - 1);
        assert_int_equal(seen[order[i]], 0);
        seen[order[i]] = 1;
    }
    free(seen);
}

static void test_loader_shuffle(void **state)
{
    enum { N = 1000 };
    pf_ctx *ctx = *state, *step = pf_ctx_new(0);
    pf_dataset d = index_dataset(ctx, N);
    pf_loader_opts opts = {.batch_size = 64, .shuffle = true, .seed = 42};
    pf_loader *a = pf_loader_new(ctx, &d, opts), *b = pf_loader_new(ctx, &d, opts);
    opts.seed = 43;
    pf_loader *c = pf_loader_new(ctx, &d, opts);
    PF_CHECK(a && b && c);
    assert_int_equal(pf_loader_num_batches(a), 16);

    static int64_t a0[N], a1[N], b0[N], b1[N], c0[N], sizes[32];
    int64_t batches;
    assert_int_equal(run_epoch(a, step, a0, N, sizes, &batches), N);
    assert_int_equal(batches, 16);
    assert_int_equal(sizes[15], N - 15 * 64);
    assert_int_equal(run_epoch(a, step, a1, N, sizes, &batches), N);
    assert_int_equal(run_epoch(b, step, b0, N, sizes, &batches), N);
    assert_int_equal(run_epoch(b, step, b1, N, sizes, &batches), N);
    assert_int_equal(run_epoch(c, step, c0, N, sizes, &batches), N);
    assert_permutation(a0, N);
    assert_permutation(a1, N);
    assert_permutation(c0, N);
    /* same seed: same orders; another epoch or seed: another order */
    assert_memory_equal(a0, b0, sizeof a0);
    assert_memory_equal(a1, b1, sizeof a1);
    assert_memory_not_equal(a0, a1, sizeof a0);
    assert_memory_not_equal(a0, c0, sizeof a0);

    /* the documented draw: Fisher-Yates from pf_rng seeded with seed + epoch */
    static int64_t expected[N];
    for (uint64_t epoch = 0; epoch < 2; epoch++) {
        pf_rng rng;
        pf_rng_seed(&rng, 42 + epoch);
        for (int64_t i = 0; i < N; i++)
            expected[i] = i;
        for (int64_t i = N - 1; i > 0; i--) {
            int64_t j = (int64_t)pf_rng_below(&rng, (uint64_t)i + 1);
            int64_t swap = expected[i];
            expected[i] = expected[j];
            expected[j] = swap;
        }
        assert_memory_equal(epoch == 0 ? a0 : a1, expected, sizeof expected);
    }

    /* without shuffle: 0, 1, 2, ... every epoch */
    pf_loader *plain = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 64});
    for (int epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(run_epoch(plain, step, a0, N, sizes, &batches), N);
        for (int64_t i = 0; i < N; i++)
            assert_int_equal(a0[i], i);
    }
    pf_ctx_free(step);
}

static void test_loader_drop_last(void **state)
{
    pf_ctx *ctx = *state, *step = pf_ctx_new(0);
    pf_dataset d = index_dataset(ctx, 10);
    int64_t order[10], sizes[16], batches;

    pf_loader *drop = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 3, .drop_last = true});
    assert_int_equal(pf_loader_num_batches(drop), 3);
    for (int epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(run_epoch(drop, step, order, 10, sizes, &batches), 9);
        assert_int_equal(batches, 3);
        assert_int_equal(sizes[2], 3);
        assert_int_equal(order[8], 8);
    }

    pf_loader *keep = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 3});
    assert_int_equal(pf_loader_num_batches(keep), 4);
    assert_int_equal(run_epoch(keep, step, order, 10, sizes, &batches), 10);
    assert_int_equal(batches, 4);
    assert_int_equal(sizes[3], 1);
    assert_int_equal(order[9], 9);

    /* shuffled, dropping: 9 distinct examples each epoch */
    pf_loader *mixed = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 3, .drop_last = true, .shuffle = true});
    assert_int_equal(run_epoch(mixed, step, order, 10, sizes, &batches), 9);
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < i; j++)
            assert_int_not_equal(order[i], order[j]);

    /* a batch size that divides N, and one larger than N */
    pf_loader *even = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 5, .drop_last = true});
    assert_int_equal(pf_loader_num_batches(even), 2);
    assert_int_equal(run_epoch(even, step, order, 10, sizes, &batches), 10);
    pf_loader *none = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 11, .drop_last = true});
    assert_int_equal(pf_loader_num_batches(none), 0);
    assert_int_equal(run_epoch(none, step, order, 10, sizes, &batches), 0);
    pf_loader *one = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 11});
    assert_int_equal(pf_loader_num_batches(one), 1);
    assert_int_equal(run_epoch(one, step, order, 10, sizes, &batches), 10);
    assert_int_equal(sizes[0], 10);
    pf_ctx_free(step);
}

static void test_loader_bad_arguments(void **state)
{
    pf_ctx *ctx = *state;
    pf_dataset d = index_dataset(ctx, 10);
    assert_null(pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 0}));
    PF_ASSERT_ERROR("pf_loader_new: batch_size 0 (it must be at least 1)");
    assert_null(pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = -5}));
    PF_ASSERT_ERROR("batch_size -5");
    assert_null(pf_loader_new(ctx, NULL, (pf_loader_opts){.batch_size = 1}));
    PF_ASSERT_ERROR("NULL dataset");
    assert_null(pf_loader_new(NULL, &d, (pf_loader_opts){.batch_size = 1}));
    PF_ASSERT_ERROR("NULL context");

    pf_dataset bad = d;
    bad.std = 0;
    assert_null(pf_loader_new(ctx, &bad, (pf_loader_opts){.batch_size = 1}));
    PF_ASSERT_ERROR("std must be positive");
    bad = d;
    bad.images = pf_zeros(ctx, PF_DIMS(10, 1, 2));
    assert_null(pf_loader_new(ctx, &bad, (pf_loader_opts){.batch_size = 1}));
    PF_ASSERT_ERROR("images are float32 [10,1,2], expected contiguous uint8 [N, H, W]");
    bad = d;
    bad.labels = pf_empty(ctx, PF_I64, PF_DIMS(9));
    assert_null(pf_loader_new(ctx, &bad, (pf_loader_opts){.batch_size = 1}));
    PF_ASSERT_ERROR("labels are int64 [9], expected contiguous int64 [10]");
    bad = d;
    bad.count = 11;
    assert_null(pf_loader_new(ctx, &bad, (pf_loader_opts){.batch_size = 1}));
    PF_ASSERT_ERROR("count is 11 but it holds 10 images");

    pf_tensor *x = (pf_tensor *)1, *y = (pf_tensor *)1;
    assert_false(pf_loader_next(NULL, ctx, &x, &y));
    PF_ASSERT_ERROR("pf_loader_next: NULL loader");
    assert_null(x);
    assert_null(y);
    assert_int_equal(pf_loader_num_batches(NULL), -1);
    PF_ASSERT_ERROR("pf_loader_num_batches: NULL loader");
}

/* MNIST's training set in batches of 100: 600 of them, normalised as
 * documented; a step context reset after each batch allocates nothing from
 * the system after the first. */
static void test_loader_mnist(void **state)
{
    pf_ctx *ctx = *state;
    pf_dataset d;
    PF_CHECK(pf_dataset_load(ctx, MNIST_DIR, true, &d));

    pf_loader *plain = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 100});
    PF_CHECK(plain != NULL);
    assert_int_equal(pf_loader_num_batches(plain), 600);
    pf_ctx *step = pf_ctx_new(4096); /* small, so that the first batch grows it */
    pf_tensor *x, *y;
    PF_CHECK(pf_loader_next(plain, step, &x, &y));
    PF_ASSERT_SHAPE(x, 100, 1, 28, 28);
    PF_ASSERT_SHAPE(y, 100);
    assert_int_equal(pf_data_i64(y)[0], 5);
    /* image 0, row 5: pixel 3 at column 12, 255 at column 21, 0 at column 0 */
    const float *px = pf_data_f32(x);
    assert_close(px[5 * 28 + 12], (3 / 255.0 - MNIST_MEAN) / MNIST_STD, 1e-5);
    assert_close(px[5 * 28 + 21], (1 - MNIST_MEAN) / MNIST_STD, 1e-5);
    assert_close(px[5 * 28 + 0], -MNIST_MEAN / MNIST_STD, 1e-5);
    /* bit for bit what torchvision's ToTensor + Normalize compute in float32 */
    float expected = ((float)3 / 255.0f - d.mean) / d.std;
    assert_memory_equal(&px[5 * 28 + 12], &expected, sizeof expected);

    pf_loader *shuffled = pf_loader_new(ctx, &d, (pf_loader_opts){.batch_size = 100, .shuffle = true, .seed = 7});
    pf_ctx_reset(step);
    double start = seconds_now();
    int64_t batches = 0, examples = 0, label_counts[10] = {0};
    size_t allocs_after_first = 0;
    while (pf_loader_next(shuffled, step, &x, &y)) {
        PF_ASSERT_SHAPE(x, 100, 1, 28, 28);
        for (int i = 0; i < 100; i++)
            label_counts[pf_data_i64(y)[i]]++;
        examples += y->shape[0];
        pf_ctx_reset(step);
        if (++batches == 1)
            allocs_after_first = pf_ctx_get_stats(step).system_allocs;
        else
            assert_int_equal(pf_ctx_get_stats(step).system_allocs, allocs_after_first);
    }
    printf("# one epoch of MNIST in shuffled batches of 100: %.3f s\n", seconds_now() - start);
    PF_CHECK(pf_ok());
    assert_int_equal(batches, 600);
    assert_int_equal(examples, 60000);
    const int64_t mnist_counts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    for (int c = 0; c < 10; c++)
        assert_int_equal(label_counts[c], mnist_counts[c]);
    pf_ctx_free(step);
}

/* ---- scripts/check-mnist.sh ----------------------------------------------- */

/* Runs the script on dir, its output into TMP/check.out; its exit status. */
static int check_mnist(const char *dir)
{
    char command[2048];
    snprintf(command, sizeof command, "sh '%s/../scripts/check-mnist.sh' '%s' > '%s' 2>&1", PF_TEST_DIR, dir,
             tmp_path("check.out"));
    int status = system(command);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_check_mnist_script(void **state)
{
    (void)state;
    int status = check_mnist(MNIST_DIR);
    if (status == 77) {
        printf("# skipped: check-mnist.sh found no sha256sum\n");
        skip();
    }
    assert_int_equal(status, 0);

    /* a folder of wrong files: a non-zero status and the file named */
    make_dir("fake");
    idx_file x = tiny_images(2), y = tiny_labels(2, 1);
    write_part("fake", "train-images-idx3-ubyte", &x, true);
    write_part("fake", "train-labels-idx1-ubyte", &y, false);
    write_part("fake", "t10k-images-idx3-ubyte", &x, false);
    assert_int_not_equal(check_mnist(tmp_path("fake")), 0);
    size_t size;
    char *out = (char *)read_whole(tmp_path("check.out"), &size);
    out[size] = '\0';
    if (!strstr(out, "train-images-idx3-ubyte.gz") || !strstr(out, "t10k-labels-idx1-ubyte"))
        fail_msg("check-mnist.sh output does not name the bad files:\n%s", out);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idx_round_trip_uint8, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_round_trip_int8, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_round_trip_int16, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_round_trip_int32, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_round_trip_float32, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_round_trip_float64, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_empty_dimension, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_every_truncation, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_hostile_headers, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_missing_file, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_truncated_gzip, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_bad_gzip, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_idx_fuzz_regressions, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_mnist_train, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_mnist_test_split, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_data_find_env, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_data_find_default_and_dirs, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dataset_tiny, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_dataset_bad_folders, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_loader_shuffle, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_loader_drop_last, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_loader_bad_arguments, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_loader_mnist, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_check_mnist_script, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
