/*
 * pth.c — reading PyTorch's own weight files (torch.save of a state_dict).
 *
 * Since PyTorch 1.6 such a file is a zip archive (entries stored, not
 * compressed) whose entries all sit in one folder ARCHIVE/ ("archive", or
 * the file's name without extension):
 *   ARCHIVE/data.pkl      the state_dict, pickled (protocol 2 by default)
 *   ARCHIVE/data/KEY      one raw little-endian storage per KEY
 *   ARCHIVE/version, ARCHIVE/byteorder (newer versions) ...
 * In the pickle a tensor is
 *   torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
 *                                   requires_grad, backward_hooks[, metadata])
 * and its storage a persistent id, the tuple
 *   ('storage', torch.FloatStorage, KEY, 'cpu', numel).
 * The state_dict itself is collections.OrderedDict() filled with SETITEMS,
 * then BUILD with its _metadata attribute (ignored here).
 *
 * A pickle is a program for a stack machine that can call any Python
 * function it names: reading it with Python's unpickler runs whatever a
 * hostile file asks for. This file is instead a restricted unpickler that
 * executes nothing. It knows the opcodes a state_dict needs (and a few
 * harmless ones of protocols 2 to 5), builds plain values from them, and
 * understands exactly four callables, by name (collections.OrderedDict,
 * _rebuild_tensor_v2, _rebuild_parameter) and the storage types: any other
 * opcode or global is refused with its name and offset. Nothing it builds is
 * walked recursively, so self-referencing structures are harmless; the
 * stack, the marks, the memo, the objects and the tensors are capped.
 *
 * Then every tensor is checked against its storage (the entry exists, is
 * stored uncompressed and unencrypted, and holds offset + the extent of the
 * sizes and strides, computed without overflow), and only then are
 * storages read (libzip checks their CRC) and copied, strided, into new
 * contiguous tensors.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zip.h>

#include "io/utf8.h"
#include "io/file_error.h"
#include "tensor/tensor_internal.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pth.c assumes a little-endian host"
#endif

#define PTH_MAX_PICKLE ((uint64_t)64 << 20)   /* bytes of data.pkl */
#define PTH_MAX_STACK ((size_t)1 << 20)       /* values on the stack */
#define PTH_MAX_MARKS ((size_t)1 << 20)       /* open MARKs */
#define PTH_MAX_MEMO ((uint64_t)1 << 20)      /* memo indices */
#define PTH_MAX_TENSORS ((size_t)1 << 20)
#define PTH_MAX_ARENA ((size_t)1 << 30)       /* bytes of unpickled objects */
#define PTH_MAX_ENTRIES ((zip_int64_t)1 << 22) /* entries of the archive scanned */
#define PTH_MAX_NAME 1024                     /* bytes of a tensor name */
#define PTH_OUTPUT_FACTOR 4                   /* tensors may total 4x the storages */

/* ---- errors ---------------------------------------------------------------- */

/* A string of the file, quoted for a message: at most 60 bytes, anything
 * but printable ASCII as '?'. */
static const char *printable(char *buf, size_t n, const char *s, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 4 < n && i < 60; i++)
        buf[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (len > 60 && k + 4 < n)
        buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = '\0';
    return buf;
}

/* ---- the pickle's opcodes -------------------------------------------------- */

/* Every opcode of pickle protocols 0 to 5, for messages. */
static const char *opcode_name(uint8_t op)
{
    switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return NULL;
    }
}

/* ---- values ------------------------------------------------------------------- */

typedef enum vkind { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR } vkind;

static const char *vkind_name(vkind k)
{
    static const char *names[] = {"None", "a bool", "an int", "a float", "a string", "a tuple",
                                  "a list", "a dict", "a global", "a storage", "a tensor"};
    return names[k];
}

/* The globals a state_dict may name. */
typedef enum gkind { G_ODICT, G_REBUILD_TENSOR, G_REBUILD_PARAMETER, G_STORAGE } gkind;

typedef struct value value;
struct value {
    vkind kind;
    union {
        int64_t i;                                          /* V_BOOL, V_INT */
        double f;                                           /* V_FLOAT */
        struct { const char *s; size_t len; } str;          /* V_STR: into the pickle */
        struct { size_t n, cap; value **items; } seq;       /* V_TUPLE, V_LIST; V_DICT: n/2 key-value pairs */
        struct { gkind g; pf_dtype dtype; const char *name; } global;
        struct { const char *key; size_t key_len; pf_dtype dtype; int64_t numel; } storage;
        size_t tensor;                                      /* V_TENSOR: index of its record */
    };
};

/* What _rebuild_tensor_v2 describes, checked against its storage. */
typedef struct tensor_rec {
    const value *storage;
    int ndim;
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    int64_t offset, numel;
    const value *name;           /* the state_dict's key (V_STR), set at the end */
    zip_uint64_t entry;          /* its storage's entry in the archive */
    size_t order;                /* position in the state_dict */
    pf_tensor *out;
} tensor_rec;

/* Objects live in chunks freed together. */
typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    max_align_t data[];
} chunk;

typedef struct unpickler {
    const pf_file_source *src;
    const uint8_t *p;
    size_t n, pos;
    size_t at;                   /* offset of the opcode being run, for messages */

    value **stack;
    size_t sp, stack_cap;
    size_t *marks;               /* stack heights at each open MARK */
    size_t nmarks, marks_cap;
    value **memo;
    size_t memo_cap, memo_count;

    chunk *chunks;
    size_t arena_bytes;

    tensor_rec *recs;
    size_t nrecs, recs_cap;
} unpickler;

static int fail_at(unpickler *u, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int fail_at(unpickler *u, const char *fmt, ...)
{
    char msg[600];
    va_list args;
    va_start(args, fmt);
    vsnprintf(msg, sizeof msg, fmt, args);
    va_end(args);
    const char *name = opcode_name(u->p[u->at]);
    return pf_file_fail(u->src, "data.pkl offset %zu (%s): %s", u->at, name ? name : "?", msg);
}

static void *arena_alloc(unpickler *u, size_t bytes)
{
    bytes = (bytes + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (u->chunks && u->chunks->size - u->chunks->used >= bytes) {
        void *p = (char *)u->chunks->data + u->chunks->used;
        u->chunks->used += bytes;
        return p;
    }
    size_t size = bytes > ((size_t)1 << 20) ? bytes : ((size_t)1 << 20);
    if (u->arena_bytes + size > PTH_MAX_ARENA) {
        fail_at(u, "the pickle builds more than %zu MiB of objects", PTH_MAX_ARENA >> 20);
        return NULL;
    }
    chunk *c = malloc(sizeof *c + size);
    if (!c) {
        fail_at(u, "out of memory");
        return NULL;
    }
    c->next = u->chunks;
    c->used = bytes;
    c->size = size;
    u->chunks = c;
    u->arena_bytes += size;
    return c->data;
}

static value *new_value(unpickler *u, vkind kind)
{
    value *v = arena_alloc(u, sizeof *v);
    if (v) {
        memset(v, 0, sizeof *v);
        v->kind = kind;
    }
    return v;
}

/* ---- the stack, marks and memo ------------------------------------------------- */

/* Values above the innermost MARK (Python's unpickler keeps the values
 * below it out of reach). */
static size_t base(const unpickler *u) { return u->nmarks ? u->marks[u->nmarks - 1] : 0; }

static int push(unpickler *u, value *v)
{
    if (!v)
        return -1;
    if (u->sp == u->stack_cap) {
        if (u->stack_cap >= PTH_MAX_STACK)
            return fail_at(u, "the stack is deeper than %zu values", PTH_MAX_STACK);
        size_t cap = u->stack_cap ? u->stack_cap * 2 : 64;
        value **s = realloc(u->stack, cap * sizeof *s);
        if (!s)
            return fail_at(u, "out of memory");
        u->stack = s;
        u->stack_cap = cap;
    }
    u->stack[u->sp++] = v;
    return 0;
}

static value *pop(unpickler *u)
{
    if (u->sp <= base(u)) {
        fail_at(u, u->nmarks ? "needs a value above the last MARK" : "the stack is empty");
        return NULL;
    }
    return u->stack[--u->sp];
}

static value *top(unpickler *u)
{
    if (u->sp <= base(u)) {
        fail_at(u, u->nmarks ? "needs a value above the last MARK" : "the stack is empty");
        return NULL;
    }
    return u->stack[u->sp - 1];
}

static int push_mark(unpickler *u)
{
    if (u->nmarks == u->marks_cap) {
        if (u->marks_cap >= PTH_MAX_MARKS)
            return fail_at(u, "more than %zu open MARKs", PTH_MAX_MARKS);
        size_t cap = u->marks_cap ? u->marks_cap * 2 : 16;
        size_t *m = realloc(u->marks, cap * sizeof *m);
        if (!m)
            return fail_at(u, "out of memory");
        u->marks = m;
        u->marks_cap = cap;
    }
    u->marks[u->nmarks++] = u->sp;
    return 0;
}

/* Pops the values above the last MARK and the MARK: they are
 * u->stack[*first .. *first + *count). */
static int pop_mark(unpickler *u, size_t *first, size_t *count)
{
    if (!u->nmarks)
        return fail_at(u, "no MARK to pop to");
    size_t b = u->marks[--u->nmarks];
    *first = b;
    *count = u->sp - b;
    u->sp = b;
    return 0;
}

static int memo_put(unpickler *u, uint64_t index)
{
    value *v = top(u);
    if (!v)
        return -1;
    if (index >= PTH_MAX_MEMO)
        return fail_at(u, "memo index %llu is past the limit of %llu", (unsigned long long)index,
                       (unsigned long long)PTH_MAX_MEMO);
    if (index >= u->memo_cap) {
        size_t cap = u->memo_cap ? u->memo_cap : 64;
        while (cap <= index)
            cap *= 2;
        value **m = realloc(u->memo, cap * sizeof *m);
        if (!m)
            return fail_at(u, "out of memory");
        memset(m + u->memo_cap, 0, (cap - u->memo_cap) * sizeof *m);
        u->memo = m;
        u->memo_cap = cap;
    }
    if (!u->memo[index])
        u->memo_count++;
    u->memo[index] = v;
    return 0;
}

static int memo_get(unpickler *u, uint64_t index)
{
    if (index >= u->memo_cap || !u->memo[index])
        return fail_at(u, "memo index %llu was never set", (unsigned long long)index);
    return push(u, u->memo[index]);
}

/* ---- reading operands ------------------------------------------------------------ */

static int need(unpickler *u, size_t bytes)
{
    if (u->n - u->pos < bytes)
        return fail_at(u, "its operand runs past the end of data.pkl (%zu bytes)", u->n);
    return 0;
}

static uint64_t read_le(unpickler *u, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | u->p[u->pos + (size_t)i];
    u->pos += (size_t)bytes;
    return v;
}

static value *int_value(unpickler *u, int64_t i)
{
    value *v = new_value(u, V_INT);
    if (v)
        v->i = i;
    return v;
}

static value *str_value(unpickler *u, size_t len)
{
    value *v = new_value(u, V_STR);
    if (v) {
        v->str.s = (const char *)u->p + u->pos;
        v->str.len = len;
    }
    u->pos += len;
    return v;
}

static value *seq_value(unpickler *u, vkind kind, size_t n, value *const *items)
{
    value *v = new_value(u, kind);
    if (!v)
        return NULL;
    if (n) {
        v->seq.items = arena_alloc(u, n * sizeof *items);
        if (!v->seq.items)
            return NULL;
        memcpy(v->seq.items, items, n * sizeof *items);
    }
    v->seq.n = v->seq.cap = n;
    return v;
}

/* Appends n values to a list or dict (grown in the arena). */
static int seq_append(unpickler *u, value *seq, size_t n, value *const *items)
{
    if (seq->seq.cap - seq->seq.n < n) {
        size_t cap = seq->seq.cap ? seq->seq.cap : 8;
        while (cap - seq->seq.n < n) {
            if (cap > PTH_MAX_ARENA / sizeof *items)
                return fail_at(u, "a list or dict is too large");
            cap *= 2;
        }
        value **grown = arena_alloc(u, cap * sizeof *grown);
        if (!grown)
            return -1;
        if (seq->seq.n)
            memcpy(grown, seq->seq.items, seq->seq.n * sizeof *grown);
        seq->seq.items = grown;
        seq->seq.cap = cap;
    }
    if (n)
        memcpy(seq->seq.items + seq->seq.n, items, n * sizeof *items);
    seq->seq.n += n;
    return 0;
}

/* ---- globals ------------------------------------------------------------------------ */

typedef struct storage_type {
    const char *name;     /* torch.NAME */
    int dtype;            /* pf_dtype, or -1: known but not supported */
    const char *what;     /* the element type, for messages */
} storage_type;

static const storage_type storage_types[] = {
    {"FloatStorage", PF_F32, "float32"},   {"DoubleStorage", PF_F64, "float64"},
    {"LongStorage", PF_I64, "int64"},      {"ByteStorage", PF_U8, "uint8"},
    {"HalfStorage", -1, "float16"},        {"BFloat16Storage", -1, "bfloat16"},
    {"IntStorage", -1, "int32"},           {"ShortStorage", -1, "int16"},
    {"CharStorage", -1, "int8"},           {"BoolStorage", -1, "bool"},
    {"ComplexFloatStorage", -1, "complex64"}, {"ComplexDoubleStorage", -1, "complex128"},
    {"QInt8Storage", -1, "qint8"},         {"QUInt8Storage", -1, "quint8"},
    {"QInt32Storage", -1, "qint32"},       {"UntypedStorage", -1, "untyped bytes"},
};

static bool str_is(const char *s, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(s, want, len) == 0;
}

static value *resolve_global(unpickler *u, const char *module, size_t mlen, const char *name, size_t nlen)
{
    value *v = new_value(u, V_GLOBAL);
    if (!v)
        return NULL;
    if (str_is(module, mlen, "collections") && str_is(name, nlen, "OrderedDict")) {
        v->global.g = G_ODICT;
        v->global.name = "collections.OrderedDict";
        return v;
    }
    if (str_is(module, mlen, "torch._utils") && str_is(name, nlen, "_rebuild_tensor_v2")) {
        v->global.g = G_REBUILD_TENSOR;
        v->global.name = "torch._utils._rebuild_tensor_v2";
        return v;
    }
    if (str_is(module, mlen, "torch._utils") && str_is(name, nlen, "_rebuild_parameter")) {
        v->global.g = G_REBUILD_PARAMETER;
        v->global.name = "torch._utils._rebuild_parameter";
        return v;
    }
    if (str_is(module, mlen, "torch")) {
        for (size_t i = 0; i < sizeof storage_types / sizeof *storage_types; i++) {
            if (!str_is(name, nlen, storage_types[i].name))
                continue;
            if (storage_types[i].dtype < 0) {
                fail_at(u, "torch.%s: %s tensors are not supported (profond reads float32, float64, int64 and "
                        "uint8; convert the state_dict with .float() first)",
                        storage_types[i].name, storage_types[i].what);
                return NULL;
            }
            v->global.g = G_STORAGE;
            v->global.dtype = (pf_dtype)storage_types[i].dtype;
            v->global.name = storage_types[i].name;
            return v;
        }
    }
    char m[80], n[80];
    fail_at(u,
            "the global '%s.%s' is not allowed: a state_dict needs only collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2 and torch's storage types, and profond executes nothing else",
            printable(m, sizeof m, module, mlen), printable(n, sizeof n, name, nlen));
    return NULL;
}

/* GLOBAL's operand: "module\nname\n". */
static int op_global(unpickler *u)
{
    const char *parts[2];
    size_t lens[2];
    for (int k = 0; k < 2; k++) {
        const uint8_t *start = u->p + u->pos;
        size_t max = u->n - u->pos < 256 ? u->n - u->pos : 256;
        const uint8_t *nl = memchr(start, '\n', max);
        if (!nl)
            return fail_at(u, "its operand is not two lines of at most 255 bytes");
        parts[k] = (const char *)start;
        lens[k] = (size_t)(nl - start);
        u->pos += lens[k] + 1;
    }
    return push(u, resolve_global(u, parts[0], lens[0], parts[1], lens[1]));
}

static int op_stack_global(unpickler *u)
{
    value *name = pop(u), *module = name ? pop(u) : NULL;
    if (!module)
        return -1;
    if (module->kind != V_STR || name->kind != V_STR)
        return fail_at(u, "expects two strings, got %s and %s", vkind_name(module->kind), vkind_name(name->kind));
    return push(u, resolve_global(u, module->str.s, module->str.len, name->str.s, name->str.len));
}

/* ---- tensors --------------------------------------------------------------------------- */

/* A tuple of at most PF_MAX_DIMS non-negative ints into dims[]. */
static int int_tuple(unpickler *u, const value *t, const char *what, int64_t *dims, int *ndim)
{
    if (t->kind != V_TUPLE)
        return fail_at(u, "_rebuild_tensor_v2: %s is %s, not a tuple", what, vkind_name(t->kind));
    if (t->seq.n > PF_MAX_DIMS)
        return fail_at(u, "_rebuild_tensor_v2: %s has %zu dimensions (profond supports at most %d)", what, t->seq.n,
                       PF_MAX_DIMS);
    for (size_t i = 0; i < t->seq.n; i++) {
        const value *d = t->seq.items[i];
        if (d->kind != V_INT || d->i < 0)
            return fail_at(u, "_rebuild_tensor_v2: %s[%zu] is not a non-negative int", what, i);
        dims[i] = d->i;
    }
    *ndim = (int)t->seq.n;
    return 0;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata]): checks everything but the archive entry. */
static value *rebuild_tensor(unpickler *u, const value *args)
{
    if (args->seq.n != 6 && args->seq.n != 7) {
        fail_at(u, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %zu", args->seq.n);
        return NULL;
    }
    value *const *a = args->seq.items;
    tensor_rec r = {0};
    if (a[0]->kind != V_STORAGE) {
        fail_at(u, "_rebuild_tensor_v2: its storage is %s, not a persistent storage id", vkind_name(a[0]->kind));
        return NULL;
    }
    r.storage = a[0];
    if (a[1]->kind != V_INT || a[1]->i < 0) {
        fail_at(u, "_rebuild_tensor_v2: storage_offset is not a non-negative int");
        return NULL;
    }
    r.offset = a[1]->i;
    int nstride;
    if (int_tuple(u, a[2], "size", r.shape, &r.ndim) < 0 || int_tuple(u, a[3], "stride", r.stride, &nstride) < 0)
        return NULL;
    if (nstride != r.ndim) {
        fail_at(u, "_rebuild_tensor_v2: size has %d dimensions but stride %d", r.ndim, nstride);
        return NULL;
    }
    if (a[4]->kind != V_BOOL) {
        fail_at(u, "_rebuild_tensor_v2: requires_grad is %s, not a bool", vkind_name(a[4]->kind));
        return NULL;
    }
    /* numel, kept below INT64_MAX / 16 as pf_empty requires; the last
     * element's index offset + sum (size - 1) * stride, without overflow. */
    const int64_t limit = INT64_MAX / 16;
    int64_t numel = 1, last = r.offset;
    for (int d = 0; d < r.ndim; d++) {
        if (r.shape[d] > 0 && numel > limit / r.shape[d]) {
            fail_at(u, "_rebuild_tensor_v2: the element count of its size overflows");
            return NULL;
        }
        numel *= r.shape[d];
    }
    for (int d = 0; d < r.ndim && numel > 0; d++) {
        int64_t span = r.shape[d] - 1;
        if (r.stride[d] > 0 && span > (limit - last) / r.stride[d]) {
            fail_at(u, "_rebuild_tensor_v2: its extent overflows");
            return NULL;
        }
        last += span * r.stride[d];
    }
    int64_t storage_numel = r.storage->storage.numel;
    char key[80];
    if (numel > 0 && last >= storage_numel) {
        fail_at(u, "_rebuild_tensor_v2: a tensor reaches element %lld of storage '%s', which has %lld", (long long)last,
                printable(key, sizeof key, r.storage->storage.key, r.storage->storage.key_len),
                (long long)storage_numel);
        return NULL;
    }
    if (numel > storage_numel) {
        fail_at(u, "_rebuild_tensor_v2: a tensor of %lld elements in storage '%s' of %lld (expanded tensors are "
                "not supported)",
                (long long)numel, printable(key, sizeof key, r.storage->storage.key, r.storage->storage.key_len),
                (long long)storage_numel);
        return NULL;
    }
    r.numel = numel;
    if (u->nrecs == u->recs_cap) {
        if (u->recs_cap >= PTH_MAX_TENSORS) {
            fail_at(u, "more than %zu tensors", PTH_MAX_TENSORS);
            return NULL;
        }
        size_t cap = u->recs_cap ? u->recs_cap * 2 : 64;
        tensor_rec *grown = realloc(u->recs, cap * sizeof *grown);
        if (!grown) {
            fail_at(u, "out of memory");
            return NULL;
        }
        u->recs = grown;
        u->recs_cap = cap;
    }
    u->recs[u->nrecs] = r;
    value *v = new_value(u, V_TENSOR);
    if (v)
        v->tensor = u->nrecs++;
    return v;
}

static int op_reduce(unpickler *u)
{
    value *args = pop(u), *fn = args ? pop(u) : NULL;
    if (!fn)
        return -1;
    if (fn->kind != V_GLOBAL)
        return fail_at(u, "calls %s, which is not callable", vkind_name(fn->kind));
    if (args->kind != V_TUPLE)
        return fail_at(u, "the arguments of %s are %s, not a tuple", fn->global.name, vkind_name(args->kind));
    switch (fn->global.g) {
    case G_ODICT:
        if (args->seq.n != 0)
            return fail_at(u, "collections.OrderedDict is only accepted without arguments");
        return push(u, new_value(u, V_DICT));
    case G_REBUILD_TENSOR:
        return push(u, rebuild_tensor(u, args));
    case G_REBUILD_PARAMETER:
        /* _rebuild_parameter(data, requires_grad, backward_hooks): the data. */
        if (args->seq.n != 3 || args->seq.items[0]->kind != V_TENSOR)
            return fail_at(u, "_rebuild_parameter expects (tensor, requires_grad, backward_hooks)");
        return push(u, args->seq.items[0]);
    case G_STORAGE:
        break;
    }
    return fail_at(u, "calling torch.%s is not allowed (storages come as persistent ids)", fn->global.name);
}

/* BINPERSID: ('storage', torch.XStorage, KEY, location, numel). */
static int op_binpersid(unpickler *u)
{
    value *pid = pop(u);
    if (!pid)
        return -1;
    if (pid->kind != V_TUPLE || pid->seq.n != 5)
        return fail_at(u, "a persistent id must be the tuple ('storage', type, key, location, numel)");
    value *const *a = pid->seq.items;
    if (a[0]->kind != V_STR || !str_is(a[0]->str.s, a[0]->str.len, "storage"))
        return fail_at(u, "a persistent id must start with 'storage'");
    if (a[1]->kind != V_GLOBAL || a[1]->global.g != G_STORAGE)
        return fail_at(u, "a persistent id's type must be a torch storage type, not %s", vkind_name(a[1]->kind));
    if (a[2]->kind != V_STR || a[2]->str.len == 0 || a[2]->str.len > 64)
        return fail_at(u, "a persistent id's key must be a string of 1 to 64 characters");
    for (size_t i = 0; i < a[2]->str.len; i++) {
        char c = a[2]->str.s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-'))
            return fail_at(u, "a persistent id's key may hold only letters, digits, '_' and '-'");
    }
    if (a[3]->kind != V_STR)
        return fail_at(u, "a persistent id's location must be a string");
    size_t elem = pf_dtype_size(a[1]->global.dtype);
    if (a[4]->kind != V_INT || a[4]->i < 0 || a[4]->i > INT64_MAX / 16 / (int64_t)elem)
        return fail_at(u, "a persistent id's element count must be an int in [0, 2^59 / element size]");
    value *v = new_value(u, V_STORAGE);
    if (!v)
        return -1;
    v->storage.key = a[2]->str.s;
    v->storage.key_len = a[2]->str.len;
    v->storage.dtype = a[1]->global.dtype;
    v->storage.numel = a[4]->i;
    return push(u, v);
}

/* ---- the machine -------------------------------------------------------------------------- */

static int step(unpickler *u, bool *stop)
{
    u->at = u->pos;
    uint8_t op = u->p[u->pos++];
    value *v, *k;
    size_t first = 0, count = 0;
    switch (op) {
    case 0x80: /* PROTO */
        if (need(u, 1) < 0)
            return -1;
        if (u->p[u->pos] < 2 || u->p[u->pos] > 5)
            return fail_at(u, "pickle protocol %d (torch.save writes 2 to 5)", u->p[u->pos]);
        u->pos++;
        return 0;
    case 0x95: /* FRAME: a length announcing the next opcodes, which follow inline */
        if (need(u, 8) < 0)
            return -1;
        if (read_le(u, 8) > u->n - u->pos)
            return fail_at(u, "the frame runs past the end of data.pkl");
        return 0;
    case '.': /* STOP */
        if (u->nmarks)
            return fail_at(u, "a MARK is still open");
        if (u->sp != 1)
            return fail_at(u, "the stack holds %zu values instead of 1", u->sp);
        if (u->pos != u->n)
            return fail_at(u, "%zu bytes follow it", u->n - u->pos);
        *stop = true;
        return 0;
    case '(': /* MARK */
        return push_mark(u);
    case 'J': /* BININT */
        if (need(u, 4) < 0)
            return -1;
        return push(u, int_value(u, (int32_t)(uint32_t)read_le(u, 4)));
    case 'K': /* BININT1 */
        if (need(u, 1) < 0)
            return -1;
        return push(u, int_value(u, (int64_t)read_le(u, 1)));
    case 'M': /* BININT2 */
        if (need(u, 2) < 0)
            return -1;
        return push(u, int_value(u, (int64_t)read_le(u, 2)));
    case 0x8a: { /* LONG1: n bytes, little-endian two's complement */
        if (need(u, 1) < 0)
            return -1;
        int len = u->p[u->pos++];
        if (len > 8)
            return fail_at(u, "an integer of %d bytes is too large", len);
        if (need(u, (size_t)len) < 0)
            return -1;
        uint64_t x = len ? read_le(u, len) : 0;
        if (len > 0 && len < 8 && (x >> (8 * len - 1)) & 1)
            x |= ~(uint64_t)0 << (8 * len); /* sign extension */
        int64_t i;
        memcpy(&i, &x, sizeof i);
        return push(u, int_value(u, i));
    }
    case 'G': { /* BINFLOAT: big-endian double */
        if (need(u, 8) < 0)
            return -1;
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | u->p[u->pos++];
        if (!(v = new_value(u, V_FLOAT)))
            return -1;
        memcpy(&v->f, &x, sizeof v->f);
        return push(u, v);
    }
    case 'N': /* NONE */
        return push(u, new_value(u, V_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        if (!(v = new_value(u, V_BOOL)))
            return -1;
        v->i = op == 0x88;
        return push(u, v);
    case 'X': /* BINUNICODE */
    case 0x8c: /* SHORT_BINUNICODE */
    case 0x8d: { /* BINUNICODE8 */
        int width = op == 'X' ? 4 : op == 0x8c ? 1 : 8;
        if (need(u, (size_t)width) < 0)
            return -1;
        uint64_t len = read_le(u, width);
        if (len > u->n - u->pos)
            return fail_at(u, "a string of %llu bytes runs past the end of data.pkl", (unsigned long long)len);
        return push(u, str_value(u, (size_t)len));
    }
    case ')': /* EMPTY_TUPLE */
        return push(u, seq_value(u, V_TUPLE, 0, NULL));
    case 't': /* TUPLE */
        if (pop_mark(u, &first, &count) < 0)
            return -1;
        return push(u, seq_value(u, V_TUPLE, count, u->stack + first));
    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: /* TUPLE3 */
        count = (size_t)(op - 0x84);
        if (u->sp - base(u) < count)
            return fail_at(u, "needs %zu values above the last MARK", count);
        u->sp -= count;
        return push(u, seq_value(u, V_TUPLE, count, u->stack + u->sp));
    case ']': /* EMPTY_LIST */
        return push(u, new_value(u, V_LIST));
    case '}': /* EMPTY_DICT */
        return push(u, new_value(u, V_DICT));
    case 'a': /* APPEND */
        if (!(v = pop(u)) || !(k = top(u)))
            return -1;
        if (k->kind != V_LIST)
            return fail_at(u, "appends to %s, not a list", vkind_name(k->kind));
        return seq_append(u, k, 1, &v);
    case 'e': /* APPENDS */
        if (pop_mark(u, &first, &count) < 0 || !(k = top(u)))
            return -1;
        if (k->kind != V_LIST)
            return fail_at(u, "appends to %s, not a list", vkind_name(k->kind));
        return seq_append(u, k, count, u->stack + first);
    case 's': /* SETITEM */
        if (u->sp - base(u) < 3)
            return fail_at(u, "needs a dict, a key and a value above the last MARK");
        k = u->stack[u->sp - 3];
        if (k->kind != V_DICT)
            return fail_at(u, "sets an item of %s, not a dict", vkind_name(k->kind));
        u->sp -= 2;
        return seq_append(u, k, 2, u->stack + u->sp);
    case 'u': /* SETITEMS */
        if (pop_mark(u, &first, &count) < 0 || !(k = top(u)))
            return -1;
        if (k->kind != V_DICT)
            return fail_at(u, "sets items of %s, not a dict", vkind_name(k->kind));
        if (count % 2)
            return fail_at(u, "an odd number of values (%zu) for key-value pairs", count);
        return seq_append(u, k, count, u->stack + first);
    case 'q': /* BINPUT */
        if (need(u, 1) < 0)
            return -1;
        return memo_put(u, read_le(u, 1));
    case 'r': /* LONG_BINPUT */
        if (need(u, 4) < 0)
            return -1;
        return memo_put(u, read_le(u, 4));
    case 0x94: /* MEMOIZE */
        return memo_put(u, u->memo_count);
    case 'h': /* BINGET */
        if (need(u, 1) < 0)
            return -1;
        return memo_get(u, read_le(u, 1));
    case 'j': /* LONG_BINGET */
        if (need(u, 4) < 0)
            return -1;
        return memo_get(u, read_le(u, 4));
    case 'c': /* GLOBAL */
        return op_global(u);
    case 0x93: /* STACK_GLOBAL */
        return op_stack_global(u);
    case 'R': /* REDUCE */
        return op_reduce(u);
    case 'b': /* BUILD: only the state_dict's _metadata, which is ignored */
        if (!(v = pop(u)) || !(k = top(u)))
            return -1;
        if (k->kind != V_DICT)
            return fail_at(u, "sets the state of %s (only a dict's attributes are accepted)", vkind_name(k->kind));
        return 0;
    case 'Q': /* BINPERSID */
        return op_binpersid(u);
    default: {
        const char *name = opcode_name(op);
        if (name)
            return fail_at(u, "the opcode %s (0x%02x) is not allowed in a state_dict: profond's reader executes "
                           "nothing and accepts only the opcodes torch.save uses for one",
                           name, op);
        return fail_at(u, "0x%02x is not a pickle opcode", op);
    }
    }
}

/* Runs the pickle to its STOP; *result is the one value left. */
static int unpickle(unpickler *u, value **result)
{
    /* The stack exists from the start: TUPLE and SETITEMS address it even
     * when they take no values. */
    u->stack_cap = 64;
    u->stack = malloc(u->stack_cap * sizeof *u->stack);
    if (!u->stack)
        return pf_file_fail(u->src, "out of memory");
    bool stop = false;
    while (!stop) {
        if (u->pos >= u->n) {
            u->at = u->n ? u->n - 1 : 0;
            return pf_file_fail(u->src, "data.pkl (%zu bytes) ends without STOP", u->n);
        }
        if (step(u, &stop) < 0)
            return -1;
    }
    *result = u->stack[0];
    return 0;
}

static void unpickler_free(unpickler *u)
{
    free(u->stack);
    free(u->marks);
    free(u->memo);
    free(u->recs);
    for (chunk *c = u->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
}

/* ---- the archive ------------------------------------------------------------------------ */

typedef struct archive {
    zip_t *za;
    char prefix[256];      /* "archive/" */
    uint64_t size;         /* bytes of the whole file */
} archive;

static int zip_fail(const pf_file_source *src, zip_t *za, const char *what)
{
    return pf_file_fail(src, "%s: %s", what, zip_strerror(za));
}

/* Finds PREFIX/data.pkl (exactly one, PREFIX without '/'). */
static int find_pickle(const pf_file_source *src, archive *ar, zip_uint64_t *index)
{
    zip_int64_t n = zip_get_num_entries(ar->za, 0);
    if (n < 0)
        return zip_fail(src, ar->za, "cannot list the archive");
    if (n > PTH_MAX_ENTRIES)
        return pf_file_fail(src, "the archive has %lld entries (at most %lld are read)", (long long)n,
                        (long long)PTH_MAX_ENTRIES);
    bool found = false;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(ar->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!name)
            continue;
        size_t len = strlen(name);
        const char *suffix = "/data.pkl";
        size_t slen = strlen(suffix);
        if (len <= slen || strcmp(name + len - slen, suffix) != 0 || memchr(name, '/', len - slen))
            continue;
        if (found)
            return pf_file_fail(src, "the archive has two state pickles (%s and %sdata.pkl)", name, ar->prefix);
        if (len - slen + 1 >= sizeof ar->prefix)
            return pf_file_fail(src, "the archive's folder name is too long");
        memcpy(ar->prefix, name, len - slen + 1);
        ar->prefix[len - slen + 1] = '\0';
        *index = (zip_uint64_t)i;
        found = true;
    }
    if (!found)
        return pf_file_fail(src, "a zip archive without ARCHIVE/data.pkl: not a file of torch.save");
    return 0;
}

/* The size of an entry, checked to be stored uncompressed, unencrypted
 * and inside the file. */
static int entry_size(const pf_file_source *src, const archive *ar, zip_uint64_t index, const char *name, uint64_t *size)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(ar->za, index, 0, &st) != 0)
        return zip_fail(src, ar->za, name);
    const zip_uint64_t want = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & want) != want)
        return pf_file_fail(src, "%s: its size is unknown", name);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
        return pf_file_fail(src, "%s is encrypted", name);
    if (st.comp_method != ZIP_CM_STORE)
        return pf_file_fail(src, "%s is compressed (method %d); torch.save stores entries as they are", name,
                        (int)st.comp_method);
    if (st.comp_size != st.size || st.size > ar->size)
        return pf_file_fail(src, "%s claims %llu bytes, more than the archive (%llu bytes) holds", name,
                        (unsigned long long)st.size, (unsigned long long)ar->size);
    *size = st.size;
    return 0;
}

/* Reads a whole entry of `size` bytes into dst (libzip checks its CRC at
 * the end). */
static int read_entry(const pf_file_source *src, const archive *ar, zip_uint64_t index, const char *name, void *dst,
                      uint64_t size)
{
    zip_file_t *zf = zip_fopen_index(ar->za, index, 0);
    if (!zf)
        return zip_fail(src, ar->za, name);
    uint64_t done = 0;
    int rc = 0;
    while (done < size) {
        uint64_t chunk_size = size - done < ((uint64_t)1 << 30) ? size - done : (uint64_t)1 << 30;
        zip_int64_t got = zip_fread(zf, (char *)dst + done, chunk_size);
        if (got < 0) {
            rc = pf_file_fail(src, "%s: %s", name, zip_file_strerror(zf));
            break;
        }
        if (got == 0) {
            rc = pf_file_fail(src, "%s: ends after %llu of its %llu bytes", name, (unsigned long long)done,
                          (unsigned long long)size);
            break;
        }
        done += (uint64_t)got;
    }
    if (rc == 0) {
        char extra;
        zip_int64_t got = zip_fread(zf, &extra, 1);
        if (got < 0)
            rc = pf_file_fail(src, "%s: %s", name, zip_file_strerror(zf));
        else if (got > 0)
            rc = pf_file_fail(src, "%s: longer than its stated %llu bytes", name, (unsigned long long)size);
    }
    zip_fclose(zf);
    return rc;
}

/* An entry's index by name, or -1 (no error recorded). */
static zip_int64_t locate(const archive *ar, const char *name)
{
    return zip_name_locate(ar->za, name, ZIP_FL_ENC_RAW);
}

/* PREFIX/byteorder, when present, must say "little". */
static int check_byteorder(const pf_file_source *src, const archive *ar)
{
    char name[300];
    snprintf(name, sizeof name, "%sbyteorder", ar->prefix);
    zip_int64_t i = locate(ar, name);
    if (i < 0)
        return 0;
    uint64_t size;
    char text[16];
    if (entry_size(src, ar, (zip_uint64_t)i, name, &size) < 0)
        return -1;
    if (size > sizeof text - 1)
        return pf_file_fail(src, "%s is not 'little' or 'big'", name);
    if (read_entry(src, ar, (zip_uint64_t)i, name, text, size) < 0)
        return -1;
    text[size] = '\0';
    if (strcmp(text, "little") == 0)
        return 0;
    return pf_file_fail(src, "%s says '%s': only little-endian files are read", name,
                    strcmp(text, "big") == 0 ? "big" : "?");
}

/* ---- from records to tensors ---------------------------------------------------------------- */

/* A record's name for "%.*s" (names are checked: no NUL, at most
 * PTH_MAX_NAME bytes). */
#define NAME(r) (int)(r)->name->str.len, (r)->name->str.s

static int by_name(const void *pa, const void *pb)
{
    const tensor_rec *a = *(tensor_rec *const *)pa, *b = *(tensor_rec *const *)pb;
    size_t n = a->name->str.len < b->name->str.len ? a->name->str.len : b->name->str.len;
    int c = memcmp(a->name->str.s, b->name->str.s, n);
    if (c)
        return c;
    return a->name->str.len < b->name->str.len ? -1 : a->name->str.len > b->name->str.len;
}

static int by_entry(const void *pa, const void *pb)
{
    const tensor_rec *a = *(tensor_rec *const *)pa, *b = *(tensor_rec *const *)pb;
    if (a->entry != b->entry)
        return a->entry < b->entry ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The state_dict: a dict of string keys and tensor values. Fills rec->name
 * and rec->order, and lists the records in dict order. */
static int collect_state(const pf_file_source *src, unpickler *u, const value *root, tensor_rec ***list_out)
{
    if (root->kind != V_DICT)
        return pf_file_fail(src, "data.pkl holds %s, not a state_dict (save model.state_dict())", vkind_name(root->kind));
    size_t n = root->seq.n / 2;
    tensor_rec **list = malloc((n ? n : 1) * sizeof *list);
    if (!list)
        return pf_file_fail(src, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const value *k = root->seq.items[2 * i], *v = root->seq.items[2 * i + 1];
        char shown[80];
        if (k->kind != V_STR) {
            free(list);
            return pf_file_fail(src, "entry %zu of the state_dict has %s as its key, not a string", i,
                            vkind_name(k->kind));
        }
        if (v->kind != V_TENSOR) {
            free(list);
            return pf_file_fail(src, "'%s' is %s, not a tensor: the file is not a state_dict (save model.state_dict())",
                            printable(shown, sizeof shown, k->str.s, k->str.len), vkind_name(v->kind));
        }
        if (k->str.len == 0 || k->str.len > PTH_MAX_NAME || memchr(k->str.s, '\0', k->str.len) ||
            pf_utf8_invalid_at((const uint8_t *)k->str.s, k->str.len) < k->str.len) {
            free(list);
            return pf_file_fail(src, "entry %zu of the state_dict has an empty, overlong or invalid name '%s'", i,
                            printable(shown, sizeof shown, k->str.s, k->str.len));
        }
        tensor_rec *r = &u->recs[v->tensor];
        if (r->name) {
            free(list);
            return pf_file_fail(src, "'%s' and '%.*s' are the same tensor object (shared tensors are not supported)",
                            printable(shown, sizeof shown, r->name->str.s, r->name->str.len), (int)k->str.len,
                            k->str.s);
        }
        r->name = k;
        r->order = i;
        list[i] = r;
    }
    tensor_rec **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) {
        free(list);
        return pf_file_fail(src, "out of memory");
    }
    memcpy(sorted, list, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_name);
    for (size_t i = 1; i < n; i++) {
        if (by_name(&sorted[i - 1], &sorted[i]) == 0) {
            char shown[80];
            pf_file_fail(src, "the state_dict has the name '%s' twice",
                     printable(shown, sizeof shown, sorted[i]->name->str.s, sorted[i]->name->str.len));
            free(sorted);
            free(list);
            return -1;
        }
    }
    free(sorted);
    *list_out = list;
    return (int)n;
}

/* True when the tensor's elements lie in row-major order without gaps. */
static bool rec_contiguous(const tensor_rec *r)
{
    int64_t expected = 1;
    for (int d = r->ndim - 1; d >= 0; d--) {
        if (r->shape[d] != 1 && r->stride[d] != expected)
            return false;
        expected *= r->shape[d];
    }
    return true;
}

/* Copies a strided view of src (elements of `elem` bytes) into dst,
 * contiguous. */
static void copy_strided(uint8_t *dst, const uint8_t *src, const tensor_rec *r, size_t elem)
{
    if (r->numel == 0)
        return;
    if (rec_contiguous(r)) {
        memcpy(dst, src + (size_t)r->offset * elem, (size_t)r->numel * elem);
        return;
    }
    int64_t index[PF_MAX_DIMS] = {0};
    for (int64_t i = 0; i < r->numel; i++) {
        int64_t at = r->offset;
        for (int d = 0; d < r->ndim; d++)
            at += index[d] * r->stride[d];
        memcpy(dst + (size_t)i * elem, src + (size_t)at * elem, elem);
        for (int d = r->ndim - 1; d >= 0; d--) {
            if (++index[d] < r->shape[d])
                break;
            index[d] = 0;
        }
    }
}

/* Checks every storage entry, allocates the tensors, reads the storages
 * once each and copies the tensors out of them. */
static int load_tensors(const pf_file_source *src, pf_ctx *ctx, archive *ar, tensor_rec **list, size_t n,
                        pf_named_tensor **out)
{
    char name[300];
    uint64_t stored = 0, wanted = 0;
    tensor_rec **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return pf_file_fail(src, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        tensor_rec *r = list[i];
        const value *s = r->storage;
        snprintf(name, sizeof name, "%sdata/%.*s", ar->prefix, (int)s->storage.key_len, s->storage.key);
        zip_int64_t index = locate(ar, name);
        uint64_t size;
        if (index < 0) {
            rc = pf_file_fail(src, "tensor '%.*s': its storage %s is not in the archive", NAME(r), name);
            break;
        }
        if ((rc = entry_size(src, ar, (zip_uint64_t)index, name, &size)) < 0)
            break;
        uint64_t elem = pf_dtype_size(s->storage.dtype), bytes = (uint64_t)s->storage.numel * elem;
        if (size < bytes) {
            rc = pf_file_fail(src, "tensor '%.*s': its storage %s has %llu bytes, less than the %lld elements of %s it "
                          "should hold (%llu bytes)",
                          NAME(r), name, (unsigned long long)size, (long long)s->storage.numel,
                          pf_dtype_name(s->storage.dtype), (unsigned long long)bytes);
            break;
        }
        r->entry = (zip_uint64_t)index;
        order[i] = r;
        wanted += (uint64_t)r->numel * elem;
    }
    /* The same storage seen through different types is refused, and the
     * tensors may total at most PTH_OUTPUT_FACTOR times the storages. */
    if (rc == 0) {
        qsort(order, n, sizeof *order, by_entry);
        for (size_t i = 0; i < n && rc == 0; i++) {
            const value *s = order[i]->storage;
            if (i > 0 && order[i - 1]->entry == order[i]->entry) {
                const value *p = order[i - 1]->storage;
                if (p->storage.dtype != s->storage.dtype || p->storage.numel != s->storage.numel)
                    rc = pf_file_fail(src, "tensors '%.*s' and '%.*s' use one storage as two different types or sizes",
                                  NAME(order[i - 1]), NAME(order[i]));
                continue;
            }
            stored += (uint64_t)s->storage.numel * pf_dtype_size(s->storage.dtype);
        }
        if (rc == 0 && wanted > PTH_OUTPUT_FACTOR * stored + ((uint64_t)1 << 20))
            rc = pf_file_fail(src, "its tensors total %llu bytes, more than %d times the %llu bytes of their storages",
                          (unsigned long long)wanted, PTH_OUTPUT_FACTOR, (unsigned long long)stored);
    }
    /* Everything checked: allocate, then read each storage once. */
    pf_named_tensor *result = rc == 0 ? pf_ctx_alloc(ctx, (n ? n : 1) * sizeof *result) : NULL;
    if (rc == 0 && !result)
        rc = pf_file_fail(src, "out of memory for the list of %zu tensors", n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        tensor_rec *r = list[i];
        char *copy = pf_ctx_alloc(ctx, r->name->str.len + 1);
        r->out = copy ? pf_empty(ctx, r->storage->storage.dtype, r->ndim, r->shape) : NULL;
        if (!r->out) {
            rc = pf_file_fail(src, "tensor '%.*s': cannot allocate it", NAME(r));
            break;
        }
        memcpy(copy, r->name->str.s, r->name->str.len);
        copy[r->name->str.len] = '\0';
        result[i] = (pf_named_tensor){copy, r->out};
    }
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && order[j]->entry == order[i]->entry)
            j++;
        const value *s = order[i]->storage;
        size_t elem = pf_dtype_size(s->storage.dtype);
        zip_uint64_t index = order[i]->entry;
        snprintf(name, sizeof name, "%sdata/%.*s", ar->prefix, (int)s->storage.key_len, s->storage.key);
        uint64_t size;
        if ((rc = entry_size(src, ar, index, name, &size)) < 0)
            break;
        if (size > SIZE_MAX) {
            rc = pf_file_fail(src, "%s: too large for this machine", name);
            break;
        }
        const tensor_rec *r = order[i];
        if (j == i + 1 && r->offset == 0 && (uint64_t)r->numel * elem == size && size > 0 && rec_contiguous(r)) {
            /* One contiguous tensor covering its whole storage: read
             * straight into it. */
            rc = read_entry(src, ar, index, name, pf_tensor_data(r->out), size);
            i = j;
            continue;
        }
        uint8_t *buf = malloc(size ? (size_t)size : 1);
        if (!buf) {
            rc = pf_file_fail(src, "%s: out of memory for %llu bytes", name, (unsigned long long)size);
            break;
        }
        rc = read_entry(src, ar, index, name, buf, size);
        for (size_t k = i; k < j && rc == 0; k++)
            copy_strided(pf_tensor_data(order[k]->out), buf, order[k], elem);
        free(buf);
        i = j;
    }
    free(order);
    if (rc < 0)
        return -1;
    *out = result;
    return (int)n;
}

/* ---- the whole file ------------------------------------------------------------------------ */

/* The first bytes of a pickle written by PyTorch before 1.6: PROTO 2, then
 * LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
static const uint8_t legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                       0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

static int not_a_zip(const pf_file_source *src, const uint8_t *head, size_t n, bool tar)
{
    if (n >= sizeof legacy_magic && memcmp(head, legacy_magic, sizeof legacy_magic) == 0)
        return pf_file_fail(src, "a file of PyTorch's legacy format (before 1.6), which profond does not read: re-save "
                        "it with torch.save(torch.load(FILE), FILE) in a newer PyTorch");
    if (tar)
        return pf_file_fail(src, "a tar archive, PyTorch's oldest format (2017), which profond does not read: re-save "
                        "it with torch.save(torch.load(FILE), FILE) in PyTorch 1.6 or later");
    return pf_file_fail(src, "not a zip archive, so not a .pth file of torch.save (PyTorch 1.6 or later)");
}

/* A tar archive has "ustar" at offset 257. */
static bool is_tar(const uint8_t *bytes, size_t n) { return n >= 262 && memcmp(bytes + 257, "ustar", 5) == 0; }

static int read_archive(const pf_file_source *src, pf_ctx *ctx, archive *ar, pf_named_tensor **out)
{
    zip_uint64_t pkl_index = 0;
    uint64_t pkl_size = 0;
    if (find_pickle(src, ar, &pkl_index) < 0 || check_byteorder(src, ar) < 0)
        return -1;
    char pkl_name[300];
    snprintf(pkl_name, sizeof pkl_name, "%sdata.pkl", ar->prefix);
    if (entry_size(src, ar, pkl_index, pkl_name, &pkl_size) < 0)
        return -1;
    if (pkl_size > PTH_MAX_PICKLE)
        return pf_file_fail(src, "%s has %llu bytes, more than the limit of %llu", pkl_name,
                        (unsigned long long)pkl_size, (unsigned long long)PTH_MAX_PICKLE);
    uint8_t *pkl = malloc(pkl_size ? (size_t)pkl_size : 1);
    if (!pkl)
        return pf_file_fail(src, "out of memory for %s", pkl_name);
    if (read_entry(src, ar, pkl_index, pkl_name, pkl, pkl_size) < 0) {
        free(pkl);
        return -1;
    }
    unpickler u = {.src = src, .p = pkl, .n = (size_t)pkl_size};
    value *root = NULL;
    tensor_rec **list = NULL;
    int n = unpickle(&u, &root);
    if (n == 0)
        n = collect_state(src, &u, root, &list);
    if (n >= 0)
        n = load_tensors(src, ctx, ar, list, (size_t)n, out);
    free(list);
    unpickler_free(&u);
    free(pkl);
    return n;
}

int pf_pth_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size, pf_named_tensor **out)
{
    const pf_file_source src = {"pf_pth_parse", "buffer"};
    if (!ctx)
        return pf_file_fail(&src, "NULL context");
    if (!out)
        return pf_file_fail(&src, "NULL output pointer");
    *out = NULL;
    if (!bytes && size > 0)
        return pf_file_fail(&src, "NULL buffer");
    if (size < 4 || memcmp(bytes, "PK\x03\x04", 4) != 0)
        return not_a_zip(&src, bytes, size, is_tar(bytes, size));
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *zs = zip_source_buffer_create(bytes, size, 0, &zerr);
    if (!zs) {
        pf_file_fail(&src, "cannot read the buffer: %s", zip_error_strerror(&zerr));
        zip_error_fini(&zerr);
        return -1;
    }
    archive ar = {.za = zip_open_from_source(zs, ZIP_RDONLY | ZIP_CHECKCONS, &zerr), .size = size};
    if (!ar.za) {
        pf_file_fail(&src, "not a valid zip archive: %s", zip_error_strerror(&zerr));
        zip_error_fini(&zerr);
        zip_source_free(zs);
        return -1;
    }
    zip_error_fini(&zerr);
    int n = read_archive(&src, ctx, &ar, out);
    zip_discard(ar.za);
    return n;
}

int pf_pth_load(pf_ctx *ctx, const char *path, pf_named_tensor **out)
{
    if (!path)
        return (void)pf_fail("pf_pth_load: NULL path"), -1;
    const pf_file_source src = {"pf_pth_load", path};
    if (!ctx)
        return pf_file_fail(&src, "NULL context");
    if (!out)
        return pf_file_fail(&src, "NULL output pointer");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pf_file_fail(&src, "cannot open: %s", strerror(errno));
    struct stat st;
    uint8_t head[512];
    size_t got = 0;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (regular)
        got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (!regular)
        return pf_file_fail(&src, "not a regular file");
    if (got < 4 || memcmp(head, "PK\x03\x04", 4) != 0)
        return not_a_zip(&src, head, got, is_tar(head, got));
    int zerr_code = 0;
    archive ar = {.za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr_code), .size = (uint64_t)st.st_size};
    if (!ar.za) {
        zip_error_t zerr;
        zip_error_init_with_code(&zerr, zerr_code);
        pf_file_fail(&src, "not a valid zip archive: %s", zip_error_strerror(&zerr));
        zip_error_fini(&zerr);
        return -1;
    }
    int n = read_archive(&src, ctx, &ar, out);
    zip_discard(ar.za);
    return n;
}

int pf_weights_load(pf_ctx *ctx, const char *path, pf_named_tensor **out)
{
    if (!path)
        return (void)pf_fail("pf_weights_load: NULL path"), -1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return (void)pf_fail("pf_weights_load: %s: cannot open: %s", path, strerror(errno)), -1;
    uint8_t head[512];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    bool pth = (got >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) ||
               (got >= sizeof legacy_magic && memcmp(head, legacy_magic, sizeof legacy_magic) == 0) ||
               is_tar(head, got);
    return pth ? pf_pth_load(ctx, path, out) : pf_safetensors_load(ctx, path, out);
}
