/*
 * test_pth.c — PyTorch .pth files (pf_pth_load, pf_pth_parse,
 * pf_weights_load): files torch.save wrote (tests/golden/pretrained/, see
 * gen_pretrained.py) load with PyTorch's names and values; hostile ones are
 * refused with an error that names the problem, never a crash.
 *
 * Most hostile files are made here: a pickle assembled opcode by opcode
 * (the `pk_*` helpers) and zipped with libzip, as torch.save lays it out
 * ("archive/data.pkl", "archive/data/KEY"), with one defect each.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zip.h>

#include "testing.h"

#define GOLDEN(name) PF_TEST_DIR "/golden/pretrained/" name

/* ---- a pickle, opcode by opcode ---- */

typedef struct pk {
    uint8_t *b;
    size_t n, cap;
} pk;

static void pk_bytes(pk *p, const void *data, size_t n)
{
    if (p->n + n > p->cap) {
        p->cap = (p->n + n) * 2 + 64;
        p->b = realloc(p->b, p->cap);
        assert_non_null(p->b);
    }
    memcpy(p->b + p->n, data, n);
    p->n += n;
}

static void pk_op(pk *p, uint8_t op) { pk_bytes(p, &op, 1); }

static void pk_le(pk *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        pk_op(p, (uint8_t)(v >> (8 * i)));
}

static void pk_str(pk *p, const char *s)
{
    pk_op(p, 'X');
    pk_le(p, strlen(s), 4);
    pk_bytes(p, s, strlen(s));
}

static void pk_int(pk *p, int64_t v)
{
    if (v >= 0 && v < 256) {
        pk_op(p, 'K');
        pk_le(p, (uint64_t)v, 1);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        pk_op(p, 'J');
        pk_le(p, (uint64_t)(uint32_t)(int32_t)v, 4);
    } else {
        pk_op(p, 0x8a);
        pk_op(p, 8);
        pk_le(p, (uint64_t)v, 8);
    }
}

static void pk_global(pk *p, const char *module, const char *name)
{
    pk_op(p, 'c');
    pk_bytes(p, module, strlen(module));
    pk_op(p, '\n');
    pk_bytes(p, name, strlen(name));
    pk_op(p, '\n');
}

static void pk_tuple(pk *p, int n, const int64_t *v)
{
    pk_op(p, '(');
    for (int i = 0; i < n; i++)
        pk_int(p, v[i]);
    pk_op(p, 't');
}

/* PROTO 2, then OrderedDict() and a MARK for the items. */
static void pk_begin(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80);
    pk_op(p, 2);
    pk_global(p, "collections", "OrderedDict");
    pk_op(p, ')');
    pk_op(p, 'R');
    pk_op(p, '(');
}

/* name: _rebuild_tensor_v2(('storage', torch.TYPE, key, 'cpu', numel),
 * offset, size, stride, False, OrderedDict()) */
static void pk_tensor(pk *p, const char *name, const char *type, const char *key, int64_t numel, int64_t offset,
                      int ndim, const int64_t *size, const int64_t *stride)
{
    pk_str(p, name);
    pk_global(p, "torch._utils", "_rebuild_tensor_v2");
    pk_op(p, '(');
    pk_op(p, '(');
    pk_str(p, "storage");
    pk_global(p, "torch", type);
    pk_str(p, key);
    pk_str(p, "cpu");
    pk_int(p, numel);
    pk_op(p, 't');
    pk_op(p, 'Q');
    pk_int(p, offset);
    pk_tuple(p, ndim, size);
    pk_tuple(p, ndim, stride);
    pk_op(p, 0x89);
    pk_global(p, "collections", "OrderedDict");
    pk_op(p, ')');
    pk_op(p, 'R');
    pk_op(p, 't');
    pk_op(p, 'R');
}

/* SETITEMS and STOP. */
static void pk_end(pk *p)
{
    pk_op(p, 'u');
    pk_op(p, '.');
}

/* ---- a zip archive, through libzip ---- */

typedef struct entry {
    const char *name;    /* under "archive/" */
    const void *data;
    size_t size;
    bool deflate;
} entry;

static char tmp_dir[64];

static const char *tmp_file(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

/* Writes archive/data.pkl (the pickle) and the entries to FILE; returns
 * its path. */
static const char *write_pth(const char *file, const pk *pickle, int n, const entry *entries)
{
    const char *path = tmp_file(file);
    remove(path);
    int err = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(za);
    for (int i = -1; i < n; i++) {
        entry e = i < 0 ? (entry){"data.pkl", pickle->b, pickle->n, false} : entries[i];
        char name[256];
        snprintf(name, sizeof name, "archive/%s", e.name);
        zip_source_t *src = zip_source_buffer(za, e.data, e.size, 0);
        assert_non_null(src);
        zip_int64_t index = zip_file_add(za, name, src, ZIP_FL_OVERWRITE);
        assert_true(index >= 0);
        assert_int_equal(zip_set_file_compression(za, (zip_uint64_t)index, e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0),
                         0);
    }
    assert_int_equal(zip_close(za), 0);
    return path;
}

static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/pf_test_pth_XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", tmp_dir);
    return system(command) == 0 ? 0 : -1;
}

/* Loads path and expects an error containing needle (and needle2). */
static void expect_refused(const char *path, const char *needle, const char *needle2)
{
    pf_ctx *ctx = pf_ctx_new(0);
    pf_named_tensor *out = (pf_named_tensor *)1;
    pf_error_clear();
    int n = pf_pth_load(ctx, path, &out);
    if (n >= 0 || !pf_error() || !strstr(pf_error(), needle) || (needle2 && !strstr(pf_error(), needle2))) {
        print_error("%s: expected an error with '%s'%s%s, got %d: %s\n", path, needle, needle2 ? " and " : "",
                    needle2 ? needle2 : "", n, pf_error() ? pf_error() : "(no error)");
        fail();
    }
    assert_null(out);
    pf_error_clear();
    pf_ctx_free(ctx);
}

/* ---- files torch.save wrote ---- */

static void test_torch_files_load(void **state)
{
    pf_ctx *ctx = *state;
    pf_named_tensor *pth, *st;
    int n = pf_pth_load(ctx, GOLDEN("alexnet32.pth"), &pth);
    int m = pf_safetensors_load(ctx, GOLDEN("alexnet32.safetensors"), &st);
    PF_CHECK(n == 16 && m == 16);
    for (int i = 0; i < n; i++) {
        assert_string_equal(pth[i].name, st[i].name);
        PF_ASSERT_CLOSE(pth[i].tensor, st[i].tensor, 0, 0);
        PF_CHECK(pf_is_contiguous(pth[i].tensor));
    }
    assert_string_equal(pth[0].name, "features.0.weight");
    assert_string_equal(pth[15].name, "classifier.6.bias");
    PF_ASSERT_SHAPE(pf_named_find(pth, n, "classifier.1.weight"), 128, 288);

    /* The same from memory, and through pf_weights_load (told by content). */
    size_t size;
    uint8_t *bytes = read_whole(GOLDEN("alexnet32.pth"), &size);
    pf_named_tensor *mem, *any, *any_st;
    PF_CHECK(pf_pth_parse(ctx, bytes, size, &mem) == 16);
    PF_CHECK(pf_weights_load(ctx, GOLDEN("alexnet32.pth"), &any) == 16);
    PF_CHECK(pf_weights_load(ctx, GOLDEN("alexnet32.safetensors"), &any_st) == 16);
    for (int i = 0; i < n; i++) {
        PF_ASSERT_CLOSE(mem[i].tensor, st[i].tensor, 0, 0);
        PF_ASSERT_CLOSE(any[i].tensor, st[i].tensor, 0, 0);
    }
    free(bytes);

    /* VGG16 / 64: 32 tensors, memo indices past 255 (LONG_BINPUT). */
    pf_named_tensor *vgg;
    PF_CHECK(pf_pth_load(ctx, GOLDEN("vgg16_64.pth"), &vgg) == 32);
    assert_string_equal(vgg[26].name, "classifier.0.weight");
}

static void test_torch_hostile_files(void **state)
{
    (void)state;
    expect_refused(GOLDEN("hostile_system.pth"), "'posix.system' is not allowed", "offset 18");
    expect_refused(GOLDEN("hostile_eval.pth"), "'builtins.eval' is not allowed", "STACK_GLOBAL");
    expect_refused(GOLDEN("hostile_half.pth"), "float16 tensors are not supported", NULL);
    expect_refused(GOLDEN("legacy.pth"), "legacy format", "re-save");
    expect_refused(GOLDEN("photo.png"), "not a zip archive", NULL);
    /* The oldest format, a tar archive ("ustar" at 257). */
    uint8_t tar[1024] = {0};
    memcpy(tar, "sys_info", 8);
    memcpy(tar + 257, "ustar", 5);
    pf_ctx *ctx = pf_ctx_new(0);
    pf_named_tensor *out;
    PF_CHECK(pf_pth_parse(ctx, tar, sizeof tar, &out) < 0);
    PF_ASSERT_ERROR("tar archive, PyTorch's oldest format");
    pf_ctx_free(ctx);
    expect_refused(GOLDEN("nothere.pth"), "cannot open", NULL);
}

/* ---- valid files made here ---- */

static void test_strided_shared_and_protocol4(void **state)
{
    pf_ctx *ctx = *state;
    float f[12];
    for (int i = 0; i < 12; i++)
        f[i] = (float)i;
    int64_t l[3] = {7, -8, INT64_C(1) << 40};
    pk p = {0};
    pk_begin(&p);
    /* A transposed view [3, 4] of storage 0, a slice of it, an int64 tensor
     * and a 0-d tensor. */
    pk_tensor(&p, "t", "FloatStorage", "0", 12, 0, 2, (int64_t[]){3, 4}, (int64_t[]){1, 3});
    pk_tensor(&p, "s", "FloatStorage", "0", 12, 5, 1, (int64_t[]){3}, (int64_t[]){2});
    pk_tensor(&p, "n", "LongStorage", "1", 3, 0, 1, (int64_t[]){3}, (int64_t[]){1});
    pk_tensor(&p, "z", "FloatStorage", "0", 12, 11, 0, NULL, NULL);
    pk_end(&p);
    entry e[] = {{"data/0", f, sizeof f, false}, {"data/1", l, sizeof l, false}};
    pf_named_tensor *out;
    PF_CHECK(pf_pth_load(ctx, write_pth("ok.pth", &p, 2, e), &out) == 4);
    PF_ASSERT_VALUES(out[0].tensor, 0, 0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11);
    PF_ASSERT_VALUES(out[1].tensor, 0, 5, 7, 9);
    assert_int_equal(out[2].tensor->dtype, PF_I64);
    PF_CHECK(pf_data_i64(out[2].tensor)[2] == (INT64_C(1) << 40) && pf_data_i64(out[2].tensor)[1] == -8);
    assert_int_equal(out[3].tensor->ndim, 0);
    PF_ASSERT_VALUES(out[3].tensor, 0, 11);

    /* Protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, BINGET,
     * and a _rebuild_parameter around the tensor. */
    p.n = 0;
    static const uint8_t head[] = {0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0};
    pk_bytes(&p, head, sizeof head);
    pk_op(&p, '}');
    pk_op(&p, 0x94);
    pk_op(&p, 0x8c), pk_op(&p, 1), pk_op(&p, 'w');
    pk_op(&p, 0x8c), pk_op(&p, 12), pk_bytes(&p, "torch._utils", 12);
    pk_op(&p, 0x8c), pk_op(&p, 18), pk_bytes(&p, "_rebuild_parameter", 18);
    pk_op(&p, 0x93);
    pk_op(&p, 0x8c), pk_op(&p, 12), pk_bytes(&p, "torch._utils", 12);
    pk_op(&p, 0x8c), pk_op(&p, 18), pk_bytes(&p, "_rebuild_tensor_v2", 18);
    pk_op(&p, 0x93);
    pk_op(&p, '(');
    pk_op(&p, '(');
    pk_str(&p, "storage");
    pk_op(&p, 0x8c), pk_op(&p, 5), pk_bytes(&p, "torch", 5);
    pk_op(&p, 0x8c), pk_op(&p, 12), pk_bytes(&p, "FloatStorage", 12);
    pk_op(&p, 0x93);
    pk_str(&p, "0");
    pk_str(&p, "cuda:0");
    pk_int(&p, 12);
    pk_op(&p, 't');
    pk_op(&p, 'Q');
    pk_int(&p, 0);
    pk_tuple(&p, 1, (int64_t[]){2});
    pk_tuple(&p, 1, (int64_t[]){1});
    pk_op(&p, 0x88);
    pk_op(&p, 'N');
    pk_op(&p, 't');
    pk_op(&p, 'R');
    pk_op(&p, 0x88);
    pk_op(&p, 'h'), pk_op(&p, 0); /* BINGET 0: any value will do for the hooks */
    pk_op(&p, 0x87);              /* TUPLE3 */
    pk_op(&p, 'R');
    pk_op(&p, 's');
    pk_op(&p, '.');
    uint64_t frame = p.n - sizeof head;
    for (int i = 0; i < 8; i++)
        p.b[3 + i] = (uint8_t)(frame >> (8 * i));
    PF_CHECK(pf_pth_load(ctx, write_pth("proto4.pth", &p, 1, e), &out) == 1);
    assert_string_equal(out[0].name, "w");
    PF_ASSERT_VALUES(out[0].tensor, 0, 0, 1);
    free(p.b);
}

/* ---- hostile pickles ---- */

/* One file per case: the pickle p with storage "0" of 16 floats. */
static const char *with_storage(const char *file, const pk *p)
{
    static float f[16];
    entry e[] = {{"data/0", f, sizeof f, false}};
    return write_pth(file, p, 1, e);
}

static void test_refused_opcodes(void **state)
{
    (void)state;
    /* Opcodes a state_dict never uses: each refused by name at offset 2. */
    static const uint8_t ops[] = {'i', 'o', 0x81, 0x92, 0x82, 'P', 'B', 'C', 'S', 'T', 'U', 'V', 'I', 'L', 'F',
                                  'g', 'p', 'd', 'l', '0', '1', '2', 0x8f, 0x90, 0x91, 0x96, 0x97, 0x98, 0x8e, 0x8b};
    for (size_t i = 0; i < sizeof ops; i++) {
        pk p = {0};
        pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, ops[i]);
        pk_bytes(&p, "aaaa\naaaa\n", 10);
        pk_op(&p, '.');
        expect_refused(with_storage("op.pth", &p), "data.pkl offset 2", "is not allowed in a state_dict");
        free(p.b);
    }
    pk p = {0};
    pk_op(&p, 0x80), pk_op(&p, 2), pk_op(&p, 0xff);
    expect_refused(with_storage("ff.pth", &p), "0xff is not a pickle opcode", NULL);
    free(p.b);
}

typedef void (*pickle_maker)(pk *p);

static void mk_os_system(pk *p)
{
    pk_begin(p);
    pk_str(p, "x");
    pk_global(p, "os", "system");
    pk_str(p, "touch /tmp/pf_pwned");
    pk_op(p, 0x85);
    pk_op(p, 'R');
    pk_end(p);
}
static void mk_reduce_storage(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_global(p, "torch", "FloatStorage");
    pk_op(p, ')');
    pk_op(p, 'R');
    pk_op(p, '.');
}
static void mk_reduce_string(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_str(p, "os.system");
    pk_op(p, ')');
    pk_op(p, 'R');
    pk_op(p, '.');
}
static void mk_odict_args(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_global(p, "collections", "OrderedDict");
    pk_op(p, ']');
    pk_op(p, 0x85);
    pk_op(p, 'R');
    pk_op(p, '.');
}
static void mk_missing_storage(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "7", 4, 0, 1, (int64_t[]){4}, (int64_t[]){1});
    pk_end(p);
}
static void mk_offset_past(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 16, 16, 1, (int64_t[]){1}, (int64_t[]){1});
    pk_end(p);
}
static void mk_stride_past(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 16, 0, 2, (int64_t[]){2, 3}, (int64_t[]){100, 1});
    pk_end(p);
}
static void mk_huge_numel(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 16, 0, 2, (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40},
              (int64_t[]){1, 1});
    pk_end(p);
}
static void mk_huge_storage(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", INT64_C(1) << 40, 0, 1, (int64_t[]){INT64_C(1) << 38}, (int64_t[]){1});
    pk_end(p);
}
static void mk_short_storage(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 100, 0, 1, (int64_t[]){100}, (int64_t[]){1});
    pk_end(p);
}
static void mk_expanded(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 1, 0, 1, (int64_t[]){1000}, (int64_t[]){0});
    pk_end(p);
}
static void mk_nine_dims(pk *p)
{
    int64_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 16, 0, 9, ones, ones);
    pk_end(p);
}
static void mk_negative_size(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 16, 0, 1, (int64_t[]){-1}, (int64_t[]){1});
    pk_end(p);
}
static void mk_bad_key(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "../../etc/passwd", 16, 0, 1, (int64_t[]){1}, (int64_t[]){1});
    pk_end(p);
}
static void mk_two_types(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "a", "FloatStorage", "0", 16, 0, 1, (int64_t[]){1}, (int64_t[]){1});
    pk_tensor(p, "b", "DoubleStorage", "0", 8, 0, 1, (int64_t[]){1}, (int64_t[]){1});
    pk_end(p);
}
static void mk_duplicate(pk *p)
{
    pk_begin(p);
    pk_tensor(p, "w", "FloatStorage", "0", 16, 0, 1, (int64_t[]){1}, (int64_t[]){1});
    pk_tensor(p, "w", "FloatStorage", "0", 16, 1, 1, (int64_t[]){1}, (int64_t[]){1});
    pk_end(p);
}
static void mk_not_tensor(pk *p)
{
    pk_begin(p);
    pk_str(p, "epoch");
    pk_int(p, 3);
    pk_end(p);
}
static void mk_not_dict(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, ']');
    pk_op(p, 'q'), pk_op(p, 0);
    pk_op(p, 'h'), pk_op(p, 0);
    pk_op(p, 'a'); /* a list holding itself */
    pk_op(p, '.');
}
static void mk_build_list(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, ']');
    pk_op(p, '}');
    pk_op(p, 'b');
    pk_op(p, '.');
}
static void mk_memo_unset(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, 'j');
    pk_le(p, 12345, 4);
    pk_op(p, '.');
}
static void mk_memo_huge(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, '}');
    pk_op(p, 'r');
    pk_le(p, 0x7fffffff, 4);
    pk_op(p, '.');
}
static void mk_underflow(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, 's');
    pk_op(p, '.');
}
static void mk_across_mark(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, '}');
    pk_op(p, '(');
    pk_op(p, 0x85); /* TUPLE1 may not take the dict below the MARK */
    pk_op(p, '.');
}
/* A MARK and an empty TUPLE as the first opcodes (found by the fuzzer:
 * the empty stack was a null pointer then). */
static void mk_empty_tuple_first(pk *p)
{
    p->n = 0;
    pk_op(p, '(');
    pk_op(p, 't');
}
static void mk_no_stop(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, '}');
}
static void mk_trailing(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, '}');
    pk_op(p, '.');
    pk_op(p, '.');
}
static void mk_two_values(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, '}');
    pk_op(p, '}');
    pk_op(p, '.');
}
static void mk_string_past_end(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, 'X');
    pk_le(p, 0xffffffff, 4);
    pk_bytes(p, "abc", 3);
}
static void mk_long_too_big(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, 0x8a), pk_op(p, 9);
    pk_bytes(p, "123456789", 9);
    pk_op(p, '.');
}
static void mk_protocol_9(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 9);
    pk_op(p, '}');
    pk_op(p, '.');
}
/* 2^20 + 1 MARKs: past the limit of open marks. */
static void mk_many_marks(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    for (int i = 0; i <= (1 << 20); i++)
        pk_op(p, '(');
    pk_op(p, '.');
}
/* 2^20 + 1 values: past the limit of the stack. */
static void mk_deep_stack(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    for (int i = 0; i <= (1 << 20); i++)
        pk_op(p, 'N');
    pk_op(p, '.');
}
/* Tuples nested 200000 deep (no recursion anywhere: refused only because
 * the result is no dict). */
static void mk_nested(pk *p)
{
    p->n = 0;
    pk_op(p, 0x80), pk_op(p, 2);
    pk_op(p, ')');
    for (int i = 0; i < 200000; i++)
        pk_op(p, 0x85);
    pk_op(p, '.');
}

static void test_refused_pickles(void **state)
{
    (void)state;
    static const struct {
        pickle_maker make;
        const char *needle, *needle2;
    } cases[] = {
        {mk_os_system, "the global 'os.system' is not allowed", "GLOBAL"},
        {mk_reduce_storage, "calling torch.FloatStorage is not allowed", NULL},
        {mk_reduce_string, "not callable", NULL},
        {mk_odict_args, "OrderedDict is only accepted without arguments", NULL},
        {mk_missing_storage, "archive/data/7 is not in the archive", NULL},
        {mk_offset_past, "reaches element 16 of storage '0', which has 16", NULL},
        {mk_stride_past, "reaches element 102", NULL},
        {mk_huge_numel, "element count of its size overflows", NULL},
        {mk_huge_storage, "has 64 bytes, less than", NULL},
        {mk_short_storage, "has 64 bytes, less than the 100 elements", NULL},
        {mk_expanded, "expanded tensors are not supported", NULL},
        {mk_nine_dims, "9 dimensions", NULL},
        {mk_negative_size, "size[0] is not a non-negative int", NULL},
        {mk_bad_key, "key may hold only letters", NULL},
        {mk_two_types, "two different types", NULL},
        {mk_duplicate, "the name 'w' twice", NULL},
        {mk_not_tensor, "'epoch' is an int, not a tensor", "not a state_dict"},
        {mk_not_dict, "holds a list, not a state_dict", NULL},
        {mk_build_list, "only a dict's attributes", NULL},
        {mk_memo_unset, "memo index 12345 was never set", NULL},
        {mk_memo_huge, "past the limit", NULL},
        {mk_underflow, "SETITEM", "needs a dict"},
        {mk_across_mark, "above the last MARK", NULL},
        {mk_no_stop, "ends without STOP", NULL},
        {mk_empty_tuple_first, "ends without STOP", NULL},
        {mk_trailing, "1 bytes follow it", NULL},
        {mk_two_values, "holds 2 values", NULL},
        {mk_string_past_end, "runs past the end of data.pkl", NULL},
        {mk_long_too_big, "integer of 9 bytes", NULL},
        {mk_protocol_9, "pickle protocol 9", NULL},
        {mk_many_marks, "open MARKs", NULL},
        {mk_deep_stack, "stack is deeper", NULL},
        {mk_nested, "holds a tuple, not a state_dict", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pk p = {0};
        cases[i].make(&p);
        expect_refused(with_storage("case.pth", &p), cases[i].needle, cases[i].needle2);
        free(p.b);
    }
    /* Nothing was executed. */
    assert_int_not_equal(access("/tmp/pf_pwned", F_OK), 0);
}

/* ---- hostile archives ---- */

static void test_refused_archives(void **state)
{
    (void)state;
    pk p = {0};
    pk_begin(&p);
    pk_tensor(&p, "w", "FloatStorage", "0", 4, 0, 1, (int64_t[]){4}, (int64_t[]){1});
    pk_end(&p);
    float f[4] = {1, 2, 3, 4};
    /* A compressed storage, a big-endian file, no data.pkl. */
    expect_refused(write_pth("deflate.pth", &p, 1, (entry[]){{"data/0", f, sizeof f, true}}), "is compressed",
                   NULL);
    expect_refused(write_pth("big.pth", &p, 2, (entry[]){{"data/0", f, sizeof f, false}, {"byteorder", "big", 3, false}}),
                   "only little-endian", NULL);
    {
        pk empty = {0};
        pk_bytes(&empty, "x", 1);
        const char *path = tmp_file("nopkl.pth");
        remove(path);
        int err;
        zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
        zip_file_add(za, "archive/other", zip_source_buffer(za, "x", 1, 0), 0);
        zip_close(za);
        expect_refused(path, "without ARCHIVE/data.pkl", NULL);
        free(empty.b);
    }
    /* A good file, then damaged copies of it in memory. */
    const char *good = write_pth("good.pth", &p, 1, (entry[]){{"data/0", f, sizeof f, false}});
    size_t size;
    uint8_t *bytes = read_whole(good, &size);
    pf_ctx *ctx = pf_ctx_new(0);
    pf_named_tensor *out;
    PF_CHECK(pf_pth_parse(ctx, bytes, size, &out) == 1);
    PF_ASSERT_VALUES(out[0].tensor, 0, 1, 2, 3, 4);
    /* Every truncation. */
    for (size_t cut = 0; cut < size; cut++) {
        PF_CHECK(pf_pth_parse(ctx, bytes, cut, &out) < 0);
        pf_error_clear();
    }
    /* Every central-directory entry's local-header offset (at +42) moved
     * past the archive, or onto another entry; then every single byte
     * flipped: never a crash, and a flipped storage byte fails the CRC. */
    uint8_t *copy = malloc(size);
    for (size_t at = 0; at + 46 <= size; at++) {
        if (memcmp(bytes + at, "PK\x01\x02", 4) != 0)
            continue;
        for (int k = 0; k < 2; k++) {
            memcpy(copy, bytes, size);
            uint32_t offset = k == 0 ? (uint32_t)size + 100 : 7;
            for (int i = 0; i < 4; i++)
                copy[at + 42 + (size_t)i] = (uint8_t)(offset >> (8 * i));
            PF_CHECK(pf_pth_parse(ctx, copy, size, &out) < 0);
            pf_error_clear();
        }
    }
    int loaded = 0;
    for (size_t at = 0; at < size; at++) {
        memcpy(copy, bytes, size);
        copy[at] ^= 0x5a;
        if (pf_pth_parse(ctx, copy, size, &out) >= 0)
            loaded++;
        pf_error_clear();
        pf_ctx_reset(ctx);
    }
    /* Only bytes libzip ignores (times, attributes ...) may change. */
    assert_true(loaded < (int)size / 2);
    free(copy);
    free(bytes);
    pf_ctx_free(ctx);
    free(p.b);

    /* Through the model loader: the error names the file. */
    pf_ctx *params = pf_ctx_new(0);
    pf_module *m = pf_model_from_spec(params, "alexnet/32");
    PF_CHECK(m != NULL);
    assert_false(pf_module_load(m, GOLDEN("hostile_system.pth")));
    PF_ASSERT_ERROR("hostile_system.pth");
    assert_false(pf_module_load(m, GOLDEN("vgg16_64.pth")));
    PF_ASSERT_ERROR("'features.0.weight' is float32 [1,3,3,3] in the file");
    pf_ctx_free(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torch_files_load, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_torch_hostile_files, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_strided_shared_and_protocol4, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_refused_opcodes, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_refused_pickles, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_refused_archives, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
