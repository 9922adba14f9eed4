/*
 * safetensors.c — reading and writing Hugging Face's safetensors files.
 *
 * A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...,
 *    "__metadata__": {"key": "value"}}
 * (offsets relative to the data section, which follows the header), then the
 * raw little-endian, row-major data of every tensor, packed with no gaps.
 *
 * The reader validates the whole header before it touches any data: the
 * header length against the file size and a 100 MB limit, valid UTF-8 and
 * JSON (parsed by cJSON), every dtype, shape (at most PF_MAX_DIMS integers in
 * [0, 2^53], product checked for overflow) and offsets (inside the data
 * section, byte count equal to the shape's, no overlap, no hole), and unique,
 * non-empty names. Tensors come back in the order of their data, as new
 * contiguous CPU tensors of the caller's context.
 *
 * The writer lays tensors out in the order given, pads the JSON header with
 * spaces to a multiple of 8 bytes (as the reference implementation does), and
 * writes atomically: "<path>.tmp.<pid>" in the same folder, fsync, rename.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "io/utf8.h"
#include "io/file_error.h"
#include "tensor/tensor_internal.h"

/* Tensor data is copied byte for byte between the file (little-endian by
 * definition) and memory, so the host must be little-endian too. Every
 * platform profond targets is; a big-endian one would need byte swaps here. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define ST_LEN_BYTES 8                    /* the header length field */
#define ST_MAX_HEADER ((uint64_t)100000000) /* the reference implementation's limit */
#define ST_MAX_INT ((uint64_t)1 << 53)    /* the largest integer a JSON number holds exactly */
#define ST_METADATA "__metadata__"

/* ---- dtypes ---------------------------------------------------------------- */

/* Every dtype of the format; the ones profond has map to a pf_dtype, the
 * others (pf < 0) are known but refused with a clear message. */
typedef struct st_dtype {
    const char *name;
    int pf;
} st_dtype;

static const st_dtype st_dtypes[] = {
    {"F32", PF_F32},  {"F64", PF_F64},   {"I64", PF_I64},     {"U8", PF_U8},        {"BOOL", -1},
    {"I8", -1},       {"I16", -1},       {"U16", -1},         {"I32", -1},          {"U32", -1},
    {"U64", -1},      {"F16", -1},       {"BF16", -1},        {"F8_E4M3", -1},      {"F8_E5M2", -1},
    {"F8_E8M0", -1},  {"F4", -1},        {"F6_E2M3", -1},     {"F6_E3M2", -1},      {"C64", -1},
};

static const char *st_dtype_name(pf_dtype dtype)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof *st_dtypes; i++)
        if (st_dtypes[i].pf == (int)dtype)
            return st_dtypes[i].name;
    return NULL;
}

/* ---- small helpers ----------------------------------------------------------- */

static bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* An integer in [0, 2^53] from a JSON number; false for anything else
 * (strings, fractions, negatives, infinities). */
static bool json_uint(const cJSON *item, uint64_t *value)
{
    if (!cJSON_IsNumber(item))
        return false;
    double d = item->valuedouble;
    if (!isfinite(d) || d < 0 || d > (double)ST_MAX_INT || d != floor(d))
        return false;
    *value = (uint64_t)d;
    return true;
}

/* ---- reading ----------------------------------------------------------------- */

/* One tensor of the header, validated. */
typedef struct st_entry {
    const char *name;      /* in the cJSON tree */
    pf_dtype dtype;
    int ndim;
    int64_t shape[PF_MAX_DIMS];
    uint64_t begin, end;   /* relative to the data section */
    size_t order;          /* position in the header, for a stable sort */
} st_entry;

static int entry_by_name(const void *a, const void *b)
{
    return strcmp(((const st_entry *)a)->name, ((const st_entry *)b)->name);
}

static int entry_by_offset(const void *pa, const void *pb)
{
    const st_entry *a = pa, *b = pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* "__metadata__" must map strings to strings; it is otherwise ignored. */
static int check_metadata(const pf_file_source *src, const cJSON *meta)
{
    if (!cJSON_IsObject(meta))
        return pf_file_fail(src, "\"" ST_METADATA "\" is not a JSON object");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, meta) {
        if (!cJSON_IsString(kv))
            return pf_file_fail(src, "\"" ST_METADATA "\" value of \"%s\" is not a string", kv->string);
    }
    return 0;
}

/* Fills e from the header entry `item`, checking each field but not yet the
 * offsets against the data section. */
static int read_entry(const pf_file_source *src, const cJSON *item, uint64_t data_size, st_entry *e)
{
    const char *name = item->string;
    if (!cJSON_IsObject(item))
        return pf_file_fail(src, "tensor \"%s\": entry is not a JSON object", name);

    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL, *field;
    cJSON_ArrayForEach(field, item) {
        const cJSON **slot = !strcmp(field->string, "dtype")          ? &dtype
                             : !strcmp(field->string, "shape")        ? &shape
                             : !strcmp(field->string, "data_offsets") ? &offsets
                                                                      : NULL;
        if (!slot)
            continue; /* unknown fields are ignored, as by the reference reader */
        if (*slot)
            return pf_file_fail(src, "tensor \"%s\": duplicate field \"%s\"", name, field->string);
        *slot = field;
    }
    if (!dtype)
        return pf_file_fail(src, "tensor \"%s\": missing \"dtype\"", name);
    if (!shape)
        return pf_file_fail(src, "tensor \"%s\": missing \"shape\"", name);
    if (!offsets)
        return pf_file_fail(src, "tensor \"%s\": missing \"data_offsets\"", name);

    /* dtype */
    if (!cJSON_IsString(dtype))
        return pf_file_fail(src, "tensor \"%s\": \"dtype\" is not a string", name);
    const st_dtype *dt = NULL;
    for (size_t i = 0; i < sizeof st_dtypes / sizeof *st_dtypes && !dt; i++)
        if (!strcmp(dtype->valuestring, st_dtypes[i].name))
            dt = &st_dtypes[i];
    if (!dt)
        return pf_file_fail(src, "tensor \"%s\": unknown dtype \"%.32s\"", name, dtype->valuestring);
    if (dt->pf < 0)
        return pf_file_fail(src, "tensor \"%s\": dtype %s is not supported by profond (F32, F64, I64 and U8 are)", name,
                       dt->name);
    e->dtype = (pf_dtype)dt->pf;

    /* shape, and its byte count: the running product is kept below
     * INT64_MAX / 16 as pf_empty requires, so nothing can overflow. */
    if (!cJSON_IsArray(shape))
        return pf_file_fail(src, "tensor \"%s\": \"shape\" is not an array", name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > PF_MAX_DIMS)
        return pf_file_fail(src, "tensor \"%s\": shape has %d dimensions (profond supports at most %d)", name, ndim,
                       PF_MAX_DIMS);
    e->ndim = ndim;
    uint64_t numel = 1;
    int d = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t size;
        if (!json_uint(dim, &size))
            return pf_file_fail(src, "tensor \"%s\": shape[%d] is not a non-negative integer", name, d);
        if (size > 0 && numel > (uint64_t)(INT64_MAX / 16) / size)
            return pf_file_fail(src, "tensor \"%s\": the element count of its shape overflows", name);
        numel *= size;
        e->shape[d++] = (int64_t)size;
    }
    uint64_t bytes = numel * pf_dtype_size(e->dtype); /* < INT64_MAX: no overflow */

    /* data_offsets */
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return pf_file_fail(src, "tensor \"%s\": \"data_offsets\" must be an array of 2 integers", name);
    if (!json_uint(cJSON_GetArrayItem(offsets, 0), &e->begin) ||
        !json_uint(cJSON_GetArrayItem(offsets, 1), &e->end))
        return pf_file_fail(src, "tensor \"%s\": \"data_offsets\" must be an array of 2 integers (non-negative)", name);
    if (e->begin > e->end)
        return pf_file_fail(src, "tensor \"%s\": data_offsets [%llu, %llu]: begins after its end", name,
                       (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > data_size)
        return pf_file_fail(src, "tensor \"%s\": data_offsets [%llu, %llu] end past the end of the data (%llu bytes)", name,
                       (unsigned long long)e->begin, (unsigned long long)e->end, (unsigned long long)data_size);
    if (e->end - e->begin != bytes) {
        char dims[160];
        return pf_file_fail(src, "tensor \"%s\": shape %s of %s needs %llu bytes but data_offsets [%llu, %llu] hold %llu",
                       name, pf_dims_str(e->ndim, e->shape, dims, sizeof dims), dt->name, (unsigned long long)bytes,
                       (unsigned long long)e->begin, (unsigned long long)e->end,
                       (unsigned long long)(e->end - e->begin));
    }
    e->name = name;
    return 0;
}

/* Validates the header JSON and fills entries[] (sorted by offset). Returns
 * their count, or -1. */
static int read_header(const pf_file_source *src, const cJSON *root, uint64_t data_size, st_entry **entries_out)
{
    if (!cJSON_IsObject(root))
        return pf_file_fail(src, "header is not a JSON object");
    size_t count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (strcmp(item->string, ST_METADATA) != 0)
            count++;
    }
    if (count > (size_t)INT32_MAX)
        return pf_file_fail(src, "header lists too many tensors (%zu)", count);
    st_entry *entries = malloc((count ? count : 1) * sizeof *entries);
    if (!entries)
        return pf_file_fail(src, "out of memory for %zu header entries", count);

    size_t n = 0, metadata = 0;
    int rc = 0;
    cJSON_ArrayForEach(item, root) {
        if (!strcmp(item->string, ST_METADATA)) {
            if (metadata++ > 0) {
                rc = pf_file_fail(src, "duplicate \"" ST_METADATA "\"");
                break;
            }
            if ((rc = check_metadata(src, item)) < 0)
                break;
            continue;
        }
        if (item->string[0] == '\0') {
            rc = pf_file_fail(src, "a tensor has an empty name");
            break;
        }
        entries[n].order = n;
        if ((rc = read_entry(src, item, data_size, &entries[n])) < 0)
            break;
        n++;
    }

    /* Unique names: cJSON keeps repeated keys, so look for neighbours. */
    if (rc == 0) {
        qsort(entries, n, sizeof *entries, entry_by_name);
        for (size_t i = 1; i < n && rc == 0; i++)
            if (!strcmp(entries[i - 1].name, entries[i].name))
                rc = pf_file_fail(src, "duplicate tensor name \"%s\"", entries[i].name);
    }

    /* The data of the tensors, in offset order, must tile the data section. */
    if (rc == 0) {
        qsort(entries, n, sizeof *entries, entry_by_offset);
        uint64_t expected = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            const st_entry *e = &entries[i];
            if (e->begin < expected)
                rc = pf_file_fail(src, "tensor \"%s\": data_offsets [%llu, %llu] overlap tensor \"%s\" (which ends at %llu)",
                             e->name, (unsigned long long)e->begin, (unsigned long long)e->end, entries[i - 1].name,
                             (unsigned long long)expected);
            else if (e->begin > expected)
                rc = pf_file_fail(src, "a hole in the data: bytes %llu to %llu belong to no tensor (before \"%s\")",
                             (unsigned long long)expected, (unsigned long long)e->begin, e->name);
            expected = e->end;
        }
        if (rc == 0 && expected != data_size)
            rc = pf_file_fail(src, "a hole in the data: bytes %llu to %llu (the end of the data) belong to no tensor",
                         (unsigned long long)expected, (unsigned long long)data_size);
    }

    if (rc < 0) {
        free(entries);
        return -1;
    }
    *entries_out = entries;
    return (int)n;
}

static int parse(pf_ctx *ctx, const uint8_t *bytes, size_t size, pf_named_tensor **out, const pf_file_source *src)
{
    if (!ctx)
        return pf_file_fail(src, "NULL context");
    if (!out)
        return pf_file_fail(src, "NULL output pointer");
    *out = NULL;
    if (!bytes && size > 0)
        return pf_file_fail(src, "NULL buffer");

    /* The header length, little-endian, read byte by byte. */
    if (size < ST_LEN_BYTES)
        return pf_file_fail(src, "too short: %zu bytes, less than the 8-byte header length", size);
    uint64_t header_len = 0;
    for (int i = ST_LEN_BYTES - 1; i >= 0; i--)
        header_len = header_len << 8 | bytes[i];
    if (header_len > ST_MAX_HEADER)
        return pf_file_fail(src, "header length %llu at offset 0 exceeds the limit of %llu bytes",
                       (unsigned long long)header_len, (unsigned long long)ST_MAX_HEADER);
    if (header_len > size - ST_LEN_BYTES)
        return pf_file_fail(src, "header length %llu at offset 0 runs past the end of the file (%zu bytes)",
                       (unsigned long long)header_len, size);
    size_t hlen = (size_t)header_len;
    const uint8_t *data = bytes + ST_LEN_BYTES + hlen;
    uint64_t data_size = size - ST_LEN_BYTES - hlen;

    size_t bad = pf_utf8_invalid_at(bytes + ST_LEN_BYTES, hlen);
    if (bad < hlen)
        return pf_file_fail(src, "header is not valid UTF-8 (byte at offset %zu)", ST_LEN_BYTES + bad);

    /* cJSON reads a terminated copy; after the JSON only spaces may follow. */
    char *text = malloc(hlen + 1);
    if (!text)
        return pf_file_fail(src, "out of memory for a header of %zu bytes", hlen);
    memcpy(text, bytes + ST_LEN_BYTES, hlen);
    text[hlen] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, hlen, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + hlen ? (size_t)(end - text) : 0;
        free(text);
        return pf_file_fail(src, "header is not valid JSON (near offset %zu)", ST_LEN_BYTES + at);
    }
    for (const char *p = end; p < text + hlen; p++) {
        if (!is_json_space(*p)) {
            size_t at = (size_t)(p - text);
            cJSON_Delete(root);
            free(text);
            return pf_file_fail(src, "header has trailing bytes after its JSON (offset %zu)", ST_LEN_BYTES + at);
        }
    }

    st_entry *entries = NULL;
    int n = read_header(src, root, data_size, &entries);
    if (n < 0) {
        cJSON_Delete(root);
        free(text);
        return -1;
    }

    /* Everything checked: copy names and data into the context. */
    int rc = n;
    pf_named_tensor *list = pf_ctx_alloc(ctx, (size_t)(n ? n : 1) * sizeof *list);
    if (!list)
        rc = pf_file_fail(src, "out of memory for the list of %d tensors", n);
    for (int i = 0; i < n && rc >= 0; i++) {
        const st_entry *e = &entries[i];
        size_t name_len = strlen(e->name);
        char *name = pf_ctx_alloc(ctx, name_len + 1);
        pf_tensor *t = name ? pf_empty(ctx, e->dtype, e->ndim, e->shape) : NULL;
        if (!t) {
            rc = pf_file_fail(src, "tensor \"%s\": cannot allocate it", e->name);
            break;
        }
        memcpy(name, e->name, name_len + 1);
        memcpy(pf_tensor_data(t), data + e->begin, (size_t)(e->end - e->begin));
        list[i].name = name;
        list[i].tensor = t;
    }
    free(entries);
    cJSON_Delete(root);
    free(text);
    if (rc >= 0)
        *out = list;
    return rc;
}

int pf_safetensors_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size, pf_named_tensor **out)
{
    const pf_file_source src = {"pf_safetensors_parse", "buffer"};
    return parse(ctx, bytes, size, out, &src);
}

int pf_safetensors_load(pf_ctx *ctx, const char *path, pf_named_tensor **out)
{
    if (!path)
        return (void)pf_fail("pf_safetensors_load: NULL path"), -1;
    const pf_file_source src = {"pf_safetensors_load", path};
    if (out)
        *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_file_fail(&src, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int err = errno;
        fclose(f);
        return pf_file_fail(&src, "cannot stat: %s", strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(f);
        return pf_file_fail(&src, "not a regular file");
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)SIZE_MAX) {
        fclose(f);
        return pf_file_fail(&src, "file size %lld is not addressable", (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes) {
        fclose(f);
        return pf_file_fail(&src, "out of memory reading %zu bytes", size);
    }
    size_t got = fread(bytes, 1, size, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (got != size || failed) {
        free(bytes);
        return pf_file_fail(&src, "read %zu of its %zu bytes%s", got, size, failed ? " (read error)" : "");
    }
    int n = parse(ctx, bytes, size, out, &src);
    free(bytes);
    return n;
}

pf_tensor *pf_named_find(const pf_named_tensor *list, int n, const char *name)
{
    if (!list || !name)
        return NULL;
    for (int i = 0; i < n; i++)
        if (list[i].name && !strcmp(list[i].name, name))
            return list[i].tensor;
    return NULL;
}

/* ---- writing ----------------------------------------------------------------- */

static int str_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Checks names and tensors; false with an error naming the culprit. */
static bool check_save_args(const pf_file_source *src, int n, const pf_named_tensor *tensors)
{
    if (n < 0)
        return pf_file_fail(src, "negative tensor count %d", n), false;
    if (n > 0 && !tensors)
        return pf_file_fail(src, "NULL tensor list"), false;
    for (int i = 0; i < n; i++) {
        const char *name = tensors[i].name;
        const pf_tensor *t = tensors[i].tensor;
        if (!name || !name[0])
            return pf_file_fail(src, "tensor %d has an empty name", i), false;
        size_t len = strlen(name);
        if (pf_utf8_invalid_at((const uint8_t *)name, len) < len)
            return pf_file_fail(src, "tensor %d: name is not valid UTF-8", i), false;
        if (!strcmp(name, ST_METADATA))
            return pf_file_fail(src, "tensor %d: the name \"" ST_METADATA "\" is reserved", i), false;
        if (!t)
            return pf_file_fail(src, "tensor \"%s\" is NULL", name), false;
        if (t->device != PF_CPU)
            return pf_file_fail(src, "tensor \"%s\" is not on the CPU", name), false;
        if (!st_dtype_name(t->dtype))
            return pf_file_fail(src, "tensor \"%s\" has an unknown dtype %d", name, (int)t->dtype), false;
    }
    /* Unique names: sort a copy of them and compare neighbours. */
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names)
        return pf_file_fail(src, "out of memory"), false;
    for (int i = 0; i < n; i++)
        names[i] = tensors[i].name;
    qsort(names, (size_t)n, sizeof *names, str_cmp);
    bool ok = true;
    for (int i = 1; i < n && ok; i++) {
        if (!strcmp(names[i - 1], names[i])) {
            pf_file_fail(src, "duplicate tensor name \"%s\"", names[i]);
            ok = false;
        }
    }
    free(names);
    return ok;
}

/* An exact decimal integer for the header (cJSON would print large numbers
 * as doubles, "1e+15"). */
static cJSON *json_int(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

/* Appends a JSON integer to array; false when out of memory. */
static bool add_int(cJSON *array, uint64_t v)
{
    cJSON *item = json_int(v);
    if (array && item && cJSON_AddItemToArray(array, item))
        return true;
    cJSON_Delete(item);
    return false;
}

/* The JSON header, tensors in the order given and packed, or NULL with an
 * error. */
static char *build_header(const pf_file_source *src, int n, const pf_named_tensor *tensors)
{
    cJSON *root = cJSON_CreateObject();
    uint64_t offset = 0;
    bool ok = root != NULL;
    for (int i = 0; i < n && ok; i++) {
        const pf_tensor *t = tensors[i].tensor;
        uint64_t numel = (uint64_t)pf_numel(t), elem = pf_dtype_size(t->dtype);
        if (numel > UINT64_MAX / elem || offset > UINT64_MAX - numel * elem) {
            pf_file_fail(src, "tensor \"%s\": the total size overflows", tensors[i].name);
            cJSON_Delete(root);
            return NULL;
        }
        uint64_t end = offset + numel * elem;
        cJSON *entry = cJSON_AddObjectToObject(root, tensors[i].name);
        cJSON *shape = NULL, *offsets = NULL;
        ok = entry && cJSON_AddStringToObject(entry, "dtype", st_dtype_name(t->dtype));
        ok = ok && (shape = cJSON_AddArrayToObject(entry, "shape")) != NULL;
        for (int d = 0; d < t->ndim && ok; d++)
            ok = add_int(shape, (uint64_t)t->shape[d]);
        ok = ok && (offsets = cJSON_AddArrayToObject(entry, "data_offsets")) != NULL;
        ok = ok && add_int(offsets, offset) && add_int(offsets, end);
        offset = end;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        pf_file_fail(src, "out of memory building the header");
    return text;
}

static bool write_all(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n; }

/* Writes the whole file to f; false with an error. */
static bool write_file(const pf_file_source *src, FILE *f, const char *header, int n, const pf_named_tensor *tensors)
{
    size_t hlen = strlen(header), padded = hlen + (8 - hlen % 8) % 8;
    uint8_t len_bytes[ST_LEN_BYTES];
    for (int i = 0; i < ST_LEN_BYTES; i++)
        len_bytes[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "        ";
    if (!write_all(f, len_bytes, sizeof len_bytes) || !write_all(f, header, hlen) ||
        !write_all(f, spaces, padded - hlen))
        return pf_file_fail(src, "write failed: %s", strerror(errno)), false;

    /* Non-contiguous tensors go through a contiguous copy in a scratch
     * context, made with gradient recording off and reset after each. */
    pf_ctx *scratch = NULL;
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        pf_tensor *t = tensors[i].tensor;
        if (!pf_is_contiguous(t)) {
            if (!scratch && !(scratch = pf_ctx_new(0))) {
                pf_file_fail(src, "out of memory");
                ok = false;
                break;
            }
            bool grad = pf_set_grad_enabled(false);
            t = pf_contiguous(scratch, t);
            pf_set_grad_enabled(grad);
            if (!t) {
                pf_file_fail(src, "tensor \"%s\": cannot make a contiguous copy", tensors[i].name);
                ok = false;
                break;
            }
        }
        size_t bytes = (size_t)pf_numel(t) * pf_dtype_size(t->dtype);
        if (!write_all(f, bytes ? pf_tensor_data(t) : NULL, bytes)) {
            pf_file_fail(src, "tensor \"%s\": write failed: %s", tensors[i].name, strerror(errno));
            ok = false;
        }
        if (scratch)
            pf_ctx_reset(scratch);
    }
    pf_ctx_free(scratch);
    return ok;
}

/* fsync the folder holding path, so that the rename itself is durable. Best
 * effort: some file systems refuse it, and the data is already safe. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else if ((dir = malloc((size_t)(slash - path) + 1))) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

bool pf_safetensors_save(const char *path, int n, const pf_named_tensor *tensors)
{
    if (!path || !path[0])
        return pf_fail("pf_safetensors_save: empty path"), false;
    const pf_file_source src = {"pf_safetensors_save", path};
    if (!check_save_args(&src, n, tensors))
        return false;

    char *header = build_header(&src, n, tensors);
    if (!header)
        return false;
    if (strlen(header) > ST_MAX_HEADER - 8) {
        pf_file_fail(&src, "the header would be %zu bytes, more than readers accept (%llu)", strlen(header),
                (unsigned long long)ST_MAX_HEADER);
        free(header);
        return false;
    }

    size_t tmp_size = strlen(path) + 32;
    char *tmp = malloc(tmp_size);
    if (!tmp) {
        free(header);
        return pf_file_fail(&src, "out of memory"), false;
    }
    snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());

    bool ok = false;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        pf_file_fail(&src, "cannot create the temporary file %s: %s", tmp, strerror(errno));
    } else {
        ok = write_file(&src, f, header, n, tensors);
        if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
            pf_file_fail(&src, "cannot flush %s: %s", tmp, strerror(errno));
            ok = false;
        }
        if (fclose(f) != 0 && ok) {
            pf_file_fail(&src, "cannot close %s: %s", tmp, strerror(errno));
            ok = false;
        }
        if (ok && rename(tmp, path) != 0) {
            pf_file_fail(&src, "cannot rename %s over it: %s", tmp, strerror(errno));
            ok = false;
        }
        if (ok)
            sync_parent_dir(path);
        else
            remove(tmp);
    }
    free(tmp);
    free(header);
    return ok;
}
