/*
 * idx.c — the IDX files of MNIST and Fashion-MNIST.
 *
 * pf_idx_load reads a whole file into memory, inflating it with zlib when it
 * starts with the gzip magic bytes 1f 8b; pf_idx_parse (the code the fuzzer
 * exercises) turns the bytes into a tensor. The format, big-endian
 * throughout:
 *
 *   offset 0    0x00 0x00        magic
 *   offset 2    element type     0x08 uint8, 0x09 int8, 0x0B int16,
 *                                0x0C int32, 0x0D float32, 0x0E float64
 *   offset 3    ndims            1 to PF_MAX_DIMS here
 *   offset 4    ndims x uint32   the size of each dimension
 *   then        the elements in row-major order; their count times the
 *               element size must equal the bytes left, exactly.
 *
 * Every field is checked before the data is touched, and sizes are
 * multiplied with overflow checks, so a hostile file gives an error.
 * Decompressed data is limited to 2 GiB.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

#include "profond.h"
#include "tensor/tensor_internal.h"

/* Files, once decompressed, must be smaller than this (2 GiB): the bound on
 * what a small, hostile .gz file can make us allocate. */
#define IDX_MAX_BYTES ((size_t)2 << 30)
/* Bytes read from a compressed file at a time. */
#define IDX_READ_CHUNK ((size_t)1 << 16)
/* Deflate expands its input at most about 1032 times: a bound on the size
 * announced by a gzip trailer worth trusting as a first allocation. */
#define GZIP_MAX_RATIO 1032

/* ---- element types -------------------------------------------------------- */

typedef struct idx_type {
    uint8_t code;      /* the byte at offset 2 */
    const char *name;
    size_t size;       /* bytes per element in the file */
    pf_dtype dtype;    /* the tensor it becomes */
} idx_type;

static const idx_type idx_types[] = {
    {0x08, "uint8", 1, PF_U8},   {0x09, "int8", 1, PF_I64},    {0x0B, "int16", 2, PF_I64},
    {0x0C, "int32", 4, PF_I64},  {0x0D, "float32", 4, PF_F32}, {0x0E, "float64", 8, PF_F64},
};

static const idx_type *find_type(uint8_t code)
{
    for (size_t i = 0; i < sizeof idx_types / sizeof idx_types[0]; i++)
        if (idx_types[i].code == code)
            return &idx_types[i];
    return NULL;
}

static uint32_t read_be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t read_be64(const uint8_t *p) { return (uint64_t)read_be32(p) << 32 | read_be32(p + 4); }

/* Two's-complement values of `bits` bits, without implementation-defined
 * conversions. */
static int64_t signed_value(uint64_t raw, int bits)
{
    uint64_t sign = (uint64_t)1 << (bits - 1);
    return raw < sign ? (int64_t)raw : (int64_t)raw - (int64_t)(sign << 1);
}

/* Converts count big-endian elements of the file into the tensor's dtype. */
static void convert_elements(const idx_type *type, const uint8_t *src, size_t count, void *dst)
{
    switch (type->code) {
    case 0x08:
        memcpy(dst, src, count);
        break;
    case 0x09: {
        int64_t *out = dst;
        for (size_t i = 0; i < count; i++)
            out[i] = signed_value(src[i], 8);
        break;
    }
    case 0x0B: {
        int64_t *out = dst;
        for (size_t i = 0; i < count; i++)
            out[i] = signed_value(read_be16(src + 2 * i), 16);
        break;
    }
    case 0x0C: {
        int64_t *out = dst;
        for (size_t i = 0; i < count; i++)
            out[i] = signed_value(read_be32(src + 4 * i), 32);
        break;
    }
    case 0x0D: {
        float *out = dst;
        for (size_t i = 0; i < count; i++) {
            uint32_t bits = read_be32(src + 4 * i);
            memcpy(&out[i], &bits, sizeof bits);
        }
        break;
    }
    case 0x0E: {
        double *out = dst;
        for (size_t i = 0; i < count; i++) {
            uint64_t bits = read_be64(src + 8 * i);
            memcpy(&out[i], &bits, sizeof bits);
        }
        break;
    }
    }
}

/* ---- parsing -------------------------------------------------------------- */

/* The tensor held by size bytes of an IDX file. `who` starts every error
 * message: "pf_idx_parse" or "pf_idx_load: PATH". */
static pf_tensor *idx_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size, const char *who)
{
    if (!ctx)
        return pf_fail("%s: NULL context", who);
    if (!bytes && size > 0)
        return pf_fail("%s: NULL bytes", who);
    if (size < 4)
        return pf_fail("%s: %zu bytes: too short for the 4-byte IDX header", who, size);
    if (bytes[0] != 0 || bytes[1] != 0)
        return pf_fail("%s: bad magic 0x%02x 0x%02x at offset 0 (an IDX file starts with two zero bytes)", who,
                       bytes[0], bytes[1]);
    const idx_type *type = find_type(bytes[2]);
    if (!type)
        return pf_fail("%s: unknown element type 0x%02x at offset 2 (known: 0x08 uint8, 0x09 int8, 0x0b int16, "
                       "0x0c int32, 0x0d float32, 0x0e float64)",
                       who, bytes[2]);
    int ndim = bytes[3];
    if (ndim < 1 || ndim > PF_MAX_DIMS)
        return pf_fail("%s: %d dimensions at offset 3 (1 to %d are supported)", who, ndim, PF_MAX_DIMS);
    size_t header = 4 + 4 * (size_t)ndim;
    if (size < header)
        return pf_fail("%s: truncated header: %d dimensions need a %zu-byte header, the file has %zu bytes", who,
                       ndim, header, size);

    int64_t shape[PF_MAX_DIMS];
    bool empty = false;
    for (int i = 0; i < ndim; i++) {
        shape[i] = read_be32(bytes + 4 + 4 * (size_t)i);
        empty = empty || shape[i] == 0;
    }
    char dims[160];
    pf_dims_str(ndim, shape, dims, sizeof dims);

    /* The product of the non-zero sizes, bounded as pf_check_shape bounds
     * element counts: strides multiply these sizes even when another one is
     * 0 and the tensor empty, so they must not overflow either. */
    const uint64_t max_elements = (uint64_t)INT64_MAX / 16;
    uint64_t elements = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0)
            continue;
        if (elements > max_elements / (uint64_t)shape[i])
            return pf_fail("%s: dimensions %s of %s hold 2^59 elements or more, too many for a tensor (the "
                           "file has %zu data bytes after its %zu-byte header)",
                           who, dims, type->name, size - header, header);
        elements *= (uint64_t)shape[i];
    }
    uint64_t expected = empty ? 0 : elements * type->size;
    size_t actual = size - header;
    if (expected != actual)
        return pf_fail("%s: dimensions %s of %s need %llu data bytes after the %zu-byte header, the file has "
                       "%zu (%s)",
                       who, dims, type->name, (unsigned long long)expected, header, actual,
                       expected > actual ? "truncated" : "trailing bytes");

    size_t count = actual / type->size;
    if (count > SIZE_MAX / pf_dtype_size(type->dtype))
        return pf_fail("%s: dimensions %s: too large for this machine's memory", who, dims);
    pf_tensor *t = pf_empty(ctx, type->dtype, ndim, shape);
    if (!t)
        return NULL;
    convert_elements(type, bytes + header, count, pf_tensor_data(t));
    return t;
}

pf_tensor *pf_idx_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size)
{
    return idx_parse(ctx, bytes, size, "pf_idx_parse");
}

/* ---- reading files -------------------------------------------------------- */

/* A growing block of bytes, never larger than IDX_MAX_BYTES. */
typedef struct byte_buffer {
    uint8_t *data;
    size_t size;
    size_t capacity;
} byte_buffer;

/* Makes room for at least one more byte (capacity starts at `hint` when
 * the buffer is empty, then doubles). */
static bool buffer_grow(byte_buffer *b, size_t hint, const char *path)
{
    if (b->size < b->capacity)
        return true;
    if (b->size >= IDX_MAX_BYTES - 1) {
        pf_fail("pf_idx_load: %s: more than %zu bytes once decompressed (the limit for IDX data)", path,
                IDX_MAX_BYTES - 1);
        return false;
    }
    size_t capacity = b->capacity ? b->capacity * 2 : hint;
    if (capacity <= b->size)
        capacity = b->size + 1;
    if (capacity > IDX_MAX_BYTES - 1)
        capacity = IDX_MAX_BYTES - 1;
    uint8_t *data = realloc(b->data, capacity);
    if (!data) {
        pf_fail("pf_idx_load: %s: out of memory growing a buffer to %zu bytes", path, capacity);
        return false;
    }
    b->data = data;
    b->capacity = capacity;
    return true;
}

/* The size of the file in bytes, or -1 when it cannot be told. */
static off_t file_size(FILE *f)
{
    off_t size = -1;
    if (fseeko(f, 0, SEEK_END) == 0)
        size = ftello(f);
    rewind(f);
    return size;
}

/* A first capacity: the size announced by the gzip trailer (the
 * uncompressed size modulo 2^32), plus one byte so that the end is seen
 * without growing, trusted only as far as deflate's ratio allows. */
static size_t gzip_size_hint(FILE *f)
{
    off_t compressed = file_size(f);
    size_t hint = IDX_READ_CHUNK;
    uint8_t trailer[4];
    if (compressed >= 18 && fseeko(f, -4, SEEK_END) == 0 && fread(trailer, 1, 4, f) == 4) {
        uint64_t announced = (uint64_t)trailer[0] | (uint64_t)trailer[1] << 8 | (uint64_t)trailer[2] << 16 |
                             (uint64_t)trailer[3] << 24;
        uint64_t plausible = (uint64_t)compressed * GZIP_MAX_RATIO;
        if (announced < plausible && announced < IDX_MAX_BYTES - 1)
            hint = (size_t)announced + 1;
    }
    rewind(f);
    return hint;
}

static bool read_plain(FILE *f, const char *path, byte_buffer *out)
{
    off_t size = file_size(f);
    size_t hint = size >= 0 && (uint64_t)size < IDX_MAX_BYTES - 1 ? (size_t)size + 1 : IDX_READ_CHUNK;
    for (;;) {
        if (!buffer_grow(out, hint, path))
            return false;
        size_t want = out->capacity - out->size;
        size_t got = fread(out->data + out->size, 1, want, f);
        out->size += got;
        if (got < want) {
            if (ferror(f)) {
                pf_fail("pf_idx_load: %s: read error after %zu bytes: %s", path, out->size, strerror(errno));
                return false;
            }
            return true;
        }
    }
}

/* Inflates every gzip member of the file. A stream that stops before its
 * end, a bad checksum and bytes after the last member are errors. */
static bool read_gzip(FILE *f, const char *path, byte_buffer *out)
{
    size_t hint = gzip_size_hint(f);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip wrapper only */
        pf_fail("pf_idx_load: %s: zlib cannot start inflating", path);
        return false;
    }
    uint8_t *chunk = malloc(IDX_READ_CHUNK);
    if (!chunk) {
        inflateEnd(&zs);
        pf_fail("pf_idx_load: %s: out of memory", path);
        return false;
    }
    uint64_t read_so_far = 0; /* compressed bytes taken from the file */
    bool inside_member = false, after_member = false, ok = true;
    while (ok) {
        if (zs.avail_in == 0) {
            size_t got = fread(chunk, 1, IDX_READ_CHUNK, f);
            if (ferror(f)) {
                pf_fail("pf_idx_load: %s: read error after %llu compressed bytes: %s", path,
                        (unsigned long long)read_so_far, strerror(errno));
                ok = false;
                break;
            }
            if (got == 0)
                break;
            read_so_far += got;
            zs.next_in = chunk;
            zs.avail_in = (uInt)got;
        }
        if (!buffer_grow(out, hint, path)) {
            ok = false;
            break;
        }
        size_t room = out->capacity - out->size;
        zs.next_out = out->data + out->size;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        inside_member = true;
        int status = inflate(&zs, Z_NO_FLUSH);
        out->size = (size_t)(zs.next_out - out->data);
        uint64_t offset = read_so_far - zs.avail_in;
        if (status == Z_STREAM_END) {
            /* One member done; another may follow (concatenated gzip). */
            inside_member = false;
            after_member = true;
            inflateReset(&zs);
        } else if (status == Z_OK || status == Z_BUF_ERROR) {
            after_member = false;
        } else if (after_member) {
            pf_fail("pf_idx_load: %s: bytes after the end of the gzip data, at compressed offset %llu", path,
                    (unsigned long long)offset);
            ok = false;
        } else {
            pf_fail("pf_idx_load: %s: corrupt gzip data near compressed offset %llu: %s", path,
                    (unsigned long long)offset, zs.msg ? zs.msg : "inflate failed");
            ok = false;
        }
    }
    if (ok && inside_member) {
        pf_fail("pf_idx_load: %s: truncated gzip file: the compressed data ends after %llu bytes, inside a "
                "stream (%zu bytes decompressed so far)",
                path, (unsigned long long)read_so_far, out->size);
        ok = false;
    }
    inflateEnd(&zs);
    free(chunk);
    return ok;
}

pf_tensor *pf_idx_load(pf_ctx *ctx, const char *path)
{
    if (!path)
        return pf_fail("pf_idx_load: NULL path");
    if (!ctx)
        return pf_fail("pf_idx_load: %s: NULL context", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_fail("pf_idx_load: %s: cannot open: %s", path, strerror(errno));
    uint8_t magic[2] = {0, 0};
    bool gzip = fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    rewind(f);
    byte_buffer bytes = {NULL, 0, 0};
    bool ok = gzip ? read_gzip(f, path, &bytes) : read_plain(f, path, &bytes);
    fclose(f);
    pf_tensor *t = NULL;
    if (ok) {
        char who[1024];
        snprintf(who, sizeof who, "pf_idx_load: %s", path);
        t = idx_parse(ctx, bytes.data, bytes.size, who);
    }
    free(bytes.data);
    return t;
}
