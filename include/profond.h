/*
 * profond.h — the whole public interface of profond, a deep-learning
 * framework in C. Read it top to bottom: it is the manual.
 *
 *   1. Errors        sticky, explicit, never a crash
 *   2. Contexts      arenas that own every tensor; reset once per step
 *   3. Tensors       dtype, shape, strides, storage; creation and printing
 *   4. Random        one documented, seeded generator
 *   5. Views         reshape, permute, narrow, expand ... (share storage)
 *   6. Operations    elementwise, reductions, matmul, joins, indexing, softmax
 *   7. Autograd      requires_grad, pf_backward, pf_grad, no-grad mode
 *   8. Files         safetensors read and write, PyTorch .pth read
 *   9. Runtime       threads, version
 *  10. NN operations linear, convolutions, pooling, batch norm, dropout
 *  11. Losses        MSE, cross-entropy, NLL, BCE
 *  12. Modules       layers with parameters, Sequential, model files, specs
 *  13. Optimizers    SGD, Adam, AdamW, learning-rate schedules
 *  14. Data          IDX files, MNIST-style datasets, batch loader
 *  15. Analysis      PCA, t-SNE, nearest-neighbour accuracy
 *  16. Images        PNG and JPEG in, resizing, normalisation, ImageNet's classes
 *
 * The lecture's autograd slide, in profond:
 *
 *     pf_ctx *ctx = pf_ctx_new(0);
 *     pf_tensor *t = pf_requires_grad(pf_from_f32(ctx, (float[]){1, 2, 4}, PF_DIMS(3)), true);
 *     pf_tensor *a = pf_sum(ctx, pf_pow(ctx, t, 2));
 *     pf_backward(a);
 *     pf_print(t->grad);                       // tensor([2., 4., 8.])
 *
 * Conventions
 * - Every function that makes a tensor takes the context that will own it
 *   first. Nothing is freed one tensor at a time: pf_ctx_reset frees all.
 * - Functions return NULL (or false, or -1) on failure and record a message
 *   that pf_error() returns. Given a NULL tensor they return NULL at once, so
 *   a whole step can be written without checks and checked once at its end.
 * - Dimensions may be negative, counting from the end as in PyTorch.
 * - Shapes are passed as (ndim, const int64_t *shape); PF_DIMS(3, 4) expands
 *   to exactly that pair: pf_zeros(ctx, PF_DIMS(3, 4)).
 */
#ifndef PROFOND_H
#define PROFOND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PF_VERSION_MAJOR 0
#define PF_VERSION_MINOR 1
#define PF_VERSION_PATCH 0
#define PF_VERSION_STRING "0.1.0"

/* ========================================================================
 * 1. Errors
 *
 * The first failure is kept until pf_error_clear(): later failures caused by
 * the first (an op given NULL) do not overwrite it. Messages name the
 * operation and the shapes or file offset involved, e.g.
 *   pf_matmul: [64,256] @ [200,256]: inner dimensions differ (256 vs 200)
 * The error state is per thread.
 * ======================================================================== */

/* The recorded message, or NULL when no error happened since the last clear. */
const char *pf_error(void);
/* Forget the recorded error. */
void pf_error_clear(void);
/* True when no error is recorded. */
bool pf_ok(void);
/* Record an error (printf-style). Library code and user extensions use it; it
 * keeps an earlier error if one is already recorded. Always returns NULL so
 * that `return pf_fail(...)` reads naturally. */
void *pf_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ========================================================================
 * 2. Contexts
 *
 * A context is an arena: making a tensor in it is a pointer bump, and
 * pf_ctx_reset releases everything made in it at once (every tensor, view,
 * gradient and tape node). Typical use: one long-lived context for the
 * parameters, their gradients and the optimizer state, and one step context,
 * reset at the top of every training step, for activations and the tape.
 * After the first step the step context has grown to its working size and
 * the loop allocates nothing more from the system.
 * ======================================================================== */

typedef struct pf_ctx pf_ctx;

/* A new context. initial_bytes is a hint (0: one megabyte); it grows as
 * needed. Returns NULL on out-of-memory. */
pf_ctx *pf_ctx_new(size_t initial_bytes);
/* Release every tensor made in ctx. The memory is kept for reuse: if the
 * context had to grow, its blocks are merged into one of the total size. */
void pf_ctx_reset(pf_ctx *ctx);
/* Release the context and all its memory. NULL is allowed. */
void pf_ctx_free(pf_ctx *ctx);

typedef struct pf_ctx_stats {
    size_t used_bytes;       /* bytes handed out since the last reset */
    size_t capacity_bytes;   /* bytes held from the system */
    size_t peak_bytes;       /* largest used_bytes ever seen */
    size_t system_allocs;    /* calls to malloc made by this context, ever */
} pf_ctx_stats;
pf_ctx_stats pf_ctx_get_stats(const pf_ctx *ctx);

/* Raw, aligned memory from the context (for user scratch space). */
void *pf_ctx_alloc(pf_ctx *ctx, size_t bytes);

/* ========================================================================
 * 3. Tensors
 * ======================================================================== */

#define PF_MAX_DIMS 8

typedef enum pf_dtype {
    PF_F32 = 0,  /* float: the working type of every op */
    PF_F64 = 1,  /* double: for gradient checks and accurate references */
    PF_I64 = 2,  /* int64_t: class labels and indices */
    PF_U8 = 3,   /* uint8_t: raw images; convert with pf_to_dtype */
} pf_dtype;

typedef enum pf_device {
    PF_CPU = 0,
    PF_CUDA = 1,  /* reserved for the CUDA backend */
} pf_device;

/* The memory a tensor and its views share. */
typedef struct pf_storage {
    void *data;
    size_t bytes;
    pf_device device;
} pf_storage;

struct pf_node;

/* A tensor. Read its fields freely; change them only through the API. */
typedef struct pf_tensor {
    pf_dtype dtype;
    pf_device device;
    int ndim;                       /* 0 for a scalar */
    int64_t shape[PF_MAX_DIMS];
    int64_t stride[PF_MAX_DIMS];    /* in elements */
    int64_t offset;                 /* in elements, into storage */
    pf_storage *storage;
    pf_ctx *ctx;                    /* the context that owns this tensor */

    bool requires_grad;             /* set on leaves with pf_requires_grad */
    struct pf_tensor *grad;         /* filled by pf_backward, for leaves */
    struct pf_node *node;           /* the op that made it (NULL: a leaf) */

    /* Bookkeeping of the backward pass in progress; not for users. */
    struct pf_tensor *pass_grad;
    uint64_t pass_id;
} pf_tensor;

/* Shape arguments: PF_DIMS(2, 3) is `2, (const int64_t[]){2, 3}`. */
#define PF_DIMS(...)                                                     \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),    \
        (const int64_t[]) { __VA_ARGS__ }

/* Size of an element of this dtype in bytes, and its name ("float32", ...). */
size_t pf_dtype_size(pf_dtype dtype);
const char *pf_dtype_name(pf_dtype dtype);

/* Number of elements (1 for a scalar). */
int64_t pf_numel(const pf_tensor *t);
/* True when the elements lie in row-major order with no gaps. */
bool pf_is_contiguous(const pf_tensor *t);
/* True when both tensors have the same shape. */
bool pf_same_shape(const pf_tensor *a, const pf_tensor *b);
/* Writes "[2,3,4]" into buf (at most n bytes) and returns buf. */
char *pf_shape_str(const pf_tensor *t, char *buf, size_t n);

/* Creation. Shapes have at most PF_MAX_DIMS dimensions, none negative. */
pf_tensor *pf_empty(pf_ctx *ctx, pf_dtype dtype, int ndim, const int64_t *shape);
pf_tensor *pf_zeros(pf_ctx *ctx, int ndim, const int64_t *shape);
pf_tensor *pf_ones(pf_ctx *ctx, int ndim, const int64_t *shape);
pf_tensor *pf_full(pf_ctx *ctx, double value, int ndim, const int64_t *shape);
pf_tensor *pf_zeros_like(pf_ctx *ctx, const pf_tensor *t);
pf_tensor *pf_ones_like(pf_ctx *ctx, const pf_tensor *t);
/* A 0-d float32 tensor. */
pf_tensor *pf_scalar(pf_ctx *ctx, double value);
/* start, start+step, ... up to but excluding end, as float32 (as torch.arange). */
pf_tensor *pf_arange(pf_ctx *ctx, double start, double end, double step);
/* Copies of C arrays, laid out row-major in the given shape. */
pf_tensor *pf_from_f32(pf_ctx *ctx, const float *data, int ndim, const int64_t *shape);
pf_tensor *pf_from_f64(pf_ctx *ctx, const double *data, int ndim, const int64_t *shape);
pf_tensor *pf_from_i64(pf_ctx *ctx, const int64_t *data, int ndim, const int64_t *shape);
pf_tensor *pf_from_u8(pf_ctx *ctx, const uint8_t *data, int ndim, const int64_t *shape);

/* Conversions. pf_to_dtype returns a contiguous copy in another dtype
 * (float to integer truncates toward zero). pf_clone copies any tensor into a
 * new contiguous one; pf_contiguous returns t itself when it already is. Both
 * are differentiable. */
pf_tensor *pf_to_dtype(pf_ctx *ctx, const pf_tensor *t, pf_dtype dtype);
pf_tensor *pf_clone(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_contiguous(pf_ctx *ctx, pf_tensor *t);
/* A tensor sharing t's storage but cut from the tape (no grad, no node). */
pf_tensor *pf_detach(pf_ctx *ctx, pf_tensor *t);

/* Element access (CPU tensors). Indices may not be negative here. */
double pf_get(const pf_tensor *t, const int64_t *index);
bool pf_set(pf_tensor *t, const int64_t *index, double value);
/* The value of a one-element tensor. NAN (and an error) otherwise. */
double pf_item(const pf_tensor *t);
/* Pointer to the first element of a contiguous CPU tensor of this dtype, or
 * NULL with an error. Writes through it are seen by every view. */
float *pf_data_f32(pf_tensor *t);
double *pf_data_f64(pf_tensor *t);
int64_t *pf_data_i64(pf_tensor *t);
uint8_t *pf_data_u8(pf_tensor *t);
/* Copies all elements, in row-major order, as float / double into out
 * (pf_numel(t) values). Works for any layout and dtype. */
bool pf_copy_to_f32(const pf_tensor *t, float *out);
bool pf_copy_to_f64(const pf_tensor *t, double *out);

/* In-place writes (not recorded by autograd). Shapes must match exactly in
 * pf_copy_; dtypes may differ. */
bool pf_fill_(pf_tensor *t, double value);
bool pf_copy_(pf_tensor *dst, const pf_tensor *src);

/* Printing in PyTorch's style:
 *   tensor([[ 1.0000, -2.5000],
 *           [ 3.0000,  4.0000]])
 * Long tensors are summarised with "..." as PyTorch does. */
void pf_print(const pf_tensor *t);
void pf_fprint(FILE *f, const pf_tensor *t);
/* The same text into buf (at most n bytes, always terminated). Returns the
 * length the full text has (as snprintf). */
size_t pf_format(const pf_tensor *t, char *buf, size_t n);

/* ========================================================================
 * 4. Random numbers
 *
 * One generator: xoshiro256** (Blackman & Vigna), seeded through splitmix64.
 * Uniform floats take the top 24 bits of a draw (53 for doubles); normal
 * values use the Box-Muller transform. The default generator starts from
 * seed 0 in every process; pf_manual_seed resets it. With a fixed seed and
 * thread count every result of profond is reproducible bit for bit.
 * ======================================================================== */

typedef struct pf_rng {
    uint64_t s[4];
} pf_rng;

void pf_rng_seed(pf_rng *rng, uint64_t seed);
uint64_t pf_rng_next(pf_rng *rng);
/* Uniform in [0, 1). */
double pf_rng_uniform(pf_rng *rng);
/* Standard normal. */
double pf_rng_normal(pf_rng *rng);
/* Uniform integer in [0, n). */
uint64_t pf_rng_below(pf_rng *rng, uint64_t n);

/* The default generator, used by the functions below and by layer
 * initialisation. */
pf_rng *pf_default_rng(void);
void pf_manual_seed(uint64_t seed);

/* float32 tensors of uniform [0,1) / standard-normal values, and uniform
 * [low, high) values, from the default generator. */
pf_tensor *pf_rand(pf_ctx *ctx, int ndim, const int64_t *shape);
pf_tensor *pf_randn(pf_ctx *ctx, int ndim, const int64_t *shape);
pf_tensor *pf_uniform(pf_ctx *ctx, double low, double high, int ndim, const int64_t *shape);
/* Uniform integers in [low, high), as int64. */
pf_tensor *pf_randint(pf_ctx *ctx, int64_t low, int64_t high, int ndim, const int64_t *shape);
/* A random permutation of 0..n-1, as int64. */
pf_tensor *pf_randperm(pf_ctx *ctx, int64_t n);

/* ========================================================================
 * 5. Views
 *
 * These share the storage of their input (no copy) and are differentiable.
 * pf_reshape copies only when the layout makes a view impossible (as
 * torch.reshape); pf_view refuses instead.
 * ======================================================================== */

/* One dimension of shape may be -1: it is inferred. */
pf_tensor *pf_view(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape);
pf_tensor *pf_reshape(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape);
/* dims is a permutation of 0..ndim-1 (negatives allowed). */
pf_tensor *pf_permute(pf_ctx *ctx, pf_tensor *t, const int *dims);
pf_tensor *pf_transpose(pf_ctx *ctx, pf_tensor *t, int dim0, int dim1);
/* Elements start .. start+length-1 of one dimension. */
pf_tensor *pf_narrow(pf_ctx *ctx, pf_tensor *t, int dim, int64_t start, int64_t length);
/* Python's t[..., start:end:step, ...] on one dimension (step > 0; start and
 * end are clamped, negatives count from the end). */
pf_tensor *pf_slice(pf_ctx *ctx, pf_tensor *t, int dim, int64_t start, int64_t end, int64_t step);
/* Element `index` of a dimension, which disappears (t[i] for dim 0). */
pf_tensor *pf_select(pf_ctx *ctx, pf_tensor *t, int dim, int64_t index);
/* Broadcast size-1 dimensions (and new leading ones) to shape; -1 keeps a
 * size. The result has stride 0 along broadcast dimensions. */
pf_tensor *pf_expand(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape);
pf_tensor *pf_unsqueeze(pf_ctx *ctx, pf_tensor *t, int dim);
/* Removes dimension dim, which must have size 1. */
pf_tensor *pf_squeeze(pf_ctx *ctx, pf_tensor *t, int dim);
/* Merges dimensions start_dim..end_dim into one (a view when possible). */
pf_tensor *pf_flatten(pf_ctx *ctx, pf_tensor *t, int start_dim, int end_dim);

/* ========================================================================
 * 6. Operations
 *
 * Operations work on float32 or float64 tensors (both operands the same
 * dtype) on the same device, and return new contiguous tensors. Binary
 * elementwise operations broadcast as NumPy and PyTorch do: shapes are
 * aligned at the right; a size-1 dimension stretches to the other's size.
 * Every operation listed is differentiable in every float argument.
 * ======================================================================== */

/* Elementwise, with broadcasting. */
pf_tensor *pf_add(pf_ctx *ctx, pf_tensor *a, pf_tensor *b);
pf_tensor *pf_sub(pf_ctx *ctx, pf_tensor *a, pf_tensor *b);
pf_tensor *pf_mul(pf_ctx *ctx, pf_tensor *a, pf_tensor *b);
pf_tensor *pf_div(pf_ctx *ctx, pf_tensor *a, pf_tensor *b);
/* With a scalar: t + s, t * s. */
pf_tensor *pf_add_scalar(pf_ctx *ctx, pf_tensor *t, double s);
pf_tensor *pf_mul_scalar(pf_ctx *ctx, pf_tensor *t, double s);

/* Elementwise, one input. */
pf_tensor *pf_neg(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_pow(pf_ctx *ctx, pf_tensor *t, double exponent);
pf_tensor *pf_exp(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_log(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_sqrt(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_abs(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_tanh(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_sigmoid(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_relu(pf_ctx *ctx, pf_tensor *t);
/* max(min(t, high), low); pass -INFINITY / INFINITY for no bound. The
 * gradient is 1 where low <= t <= high and 0 elsewhere (as PyTorch). */
pf_tensor *pf_clamp(pf_ctx *ctx, pf_tensor *t, double low, double high);

/* Reductions. pf_sum/pf_mean reduce everything to a 0-d tensor; the _dims
 * forms reduce the listed dimensions, keeping them with size 1 when keepdim. */
pf_tensor *pf_sum(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_mean(pf_ctx *ctx, pf_tensor *t);
pf_tensor *pf_sum_dims(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, bool keepdim);
pf_tensor *pf_mean_dims(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, bool keepdim);
/* Largest value along dim. If indices is not NULL, *indices receives the
 * int64 positions (the first one on ties). The gradient flows to that
 * position only. */
pf_tensor *pf_max_dim(pf_ctx *ctx, pf_tensor *t, int dim, bool keepdim, pf_tensor **indices);
pf_tensor *pf_argmax(pf_ctx *ctx, pf_tensor *t, int dim, bool keepdim);
/* Variance and standard deviation over dims, divided by N - correction
 * (correction 1 is PyTorch's default, unbiased). */
pf_tensor *pf_var(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, int correction, bool keepdim);
pf_tensor *pf_std(pf_ctx *ctx, pf_tensor *t, int ndims, const int *dims, int correction, bool keepdim);
/* Sums t down to shape by adding over the dimensions that broadcasting would
 * have stretched (the gradient of pf_expand). */
pf_tensor *pf_sum_to(pf_ctx *ctx, pf_tensor *t, int ndim, const int64_t *shape);

/* Matrix product as torch.matmul: 1-D·1-D is a dot product, 2-D@2-D a matrix
 * product, and leading dimensions broadcast as a batch. Runs through CBLAS. */
pf_tensor *pf_matmul(pf_ctx *ctx, pf_tensor *a, pf_tensor *b);

/* Joins: n tensors of equal shape but along dim (pf_cat), or of equal shape
 * stacked along a new dim (pf_stack). */
pf_tensor *pf_cat(pf_ctx *ctx, int n, pf_tensor *const *tensors, int dim);
pf_tensor *pf_stack(pf_ctx *ctx, int n, pf_tensor *const *tensors, int dim);

/* Indexing with int64 index tensors. index_select picks whole slices along
 * dim (index is 1-D); gather picks single elements: out[i][j] =
 * t[index[i][j]][j] for dim 0 (index has t's number of dimensions). */
pf_tensor *pf_index_select(pf_ctx *ctx, pf_tensor *t, int dim, const pf_tensor *index);
pf_tensor *pf_gather(pf_ctx *ctx, pf_tensor *t, int dim, const pf_tensor *index);

/* softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x) along dim, and its
 * logarithm computed without forming the softmax. */
pf_tensor *pf_softmax(pf_ctx *ctx, pf_tensor *t, int dim);
pf_tensor *pf_log_softmax(pf_ctx *ctx, pf_tensor *t, int dim);

/* ========================================================================
 * 7. Automatic differentiation
 *
 * As in PyTorch: mark leaves with pf_requires_grad; every operation on a
 * tensor that requires grad records a node on the tape (in the context of
 * its output). pf_backward(loss) walks the tape back from a scalar loss and
 * adds d loss / d leaf into each leaf's ->grad (allocated in the leaf's own
 * context on first use, then accumulated, as PyTorch's .grad). The tape is
 * kept until the context is reset, so backward may be called again.
 * ======================================================================== */

/* Marks a float leaf as requiring gradients (or not). Returns t. */
pf_tensor *pf_requires_grad(pf_tensor *t, bool on);
/* Backward from a one-element tensor. Returns false with an error otherwise. */
bool pf_backward(pf_tensor *loss);
/* Backward from any tensor, seeded with grad_output (same shape). */
bool pf_backward_with(pf_tensor *output, pf_tensor *grad_output);
/* Gradients of a one-element output with respect to n inputs, returned in
 * grads[i] (made in ctx) without touching any ->grad: the lecture's
 * torch.autograd.grad(a, (t,)). An input the output does not depend on gets
 * an error. */
bool pf_grad(pf_ctx *ctx, pf_tensor *output, int n, pf_tensor *const *inputs, pf_tensor **grads);
/* Sets t->grad to zero (keeps its memory). NULL grad is left alone. */
void pf_zero_grad(pf_tensor *t);

/* Gradient recording on (the default) or off, for this thread; returns the
 * previous setting. With it off, ops record nothing (inference). */
bool pf_set_grad_enabled(bool on);
bool pf_is_grad_enabled(void);

/* ========================================================================
 * 8. Files: safetensors
 *
 * The format of Hugging Face's safetensors: an 8-byte little-endian header
 * length, a JSON header {"name": {"dtype", "shape", "data_offsets"}}, then
 * the raw little-endian data. Readers check every field (dtype known, shape
 * product equal to the byte count, offsets inside the file and not
 * overlapping) before touching data. Writes are atomic: a temporary file in
 * the same folder, fsync, then rename.
 * ======================================================================== */

typedef struct pf_named_tensor {
    const char *name;
    pf_tensor *tensor;
} pf_named_tensor;

/* Reads every tensor of a file into ctx (CPU). Returns the number of tensors
 * and sets *out to an array of them in file order, or -1 with an error. */
int pf_safetensors_load(pf_ctx *ctx, const char *path, pf_named_tensor **out);
/* The same from a buffer in memory (used by the fuzz target). */
int pf_safetensors_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size, pf_named_tensor **out);
/* Finds a tensor by name in a loaded list, NULL if absent (no error set). */
pf_tensor *pf_named_find(const pf_named_tensor *list, int n, const char *name);
/* Writes n tensors (any layout, any dtype above) atomically. */
bool pf_safetensors_save(const char *path, int n, const pf_named_tensor *tensors);

/* PyTorch's own files (.pth, .pt), as torch.save writes a state_dict since
 * PyTorch 1.6: a zip archive (read through libzip) holding the pickle
 * ARCHIVE/data.pkl and one raw little-endian storage per tensor,
 * ARCHIVE/data/KEY. The pickle is read by a restricted unpickler that
 * executes nothing: it knows only the opcodes a state_dict uses (PROTO,
 * FRAME, MARK, STOP, the BININT and LONG1 integers, BINFLOAT, NONE, the
 * booleans, the BINUNICODE strings, tuples, EMPTY_DICT/SETITEM(S),
 * EMPTY_LIST/APPEND(S), the memo's PUT/GET/MEMOIZE, GLOBAL, STACK_GLOBAL,
 * REDUCE, BUILD and BINPERSID) and only the globals collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and
 * torch.{Float,Double,Long,Byte}Storage. Anything else (os.system,
 * builtins.eval, another opcode, a REDUCE on another callable) is an error
 * that names it and its offset in data.pkl. Every tensor is checked before
 * any data is read: its storage entry exists and holds offset + extent of
 * its sizes and strides (no overflow, at most PF_MAX_DIMS dimensions, no
 * more elements than the storage), and its name is unique. Tensors come
 * back as new contiguous CPU tensors of ctx, in the pickle's order;
 * float32, float64, int64 and uint8 (float16 and the others are refused
 * by name). Limits: data.pkl 64 MiB, 2^20 tensors, the unpickler's stack
 * and memo 2^20 entries. Files of PyTorch before 1.6 (a pickle stream, or
 * a tar archive before that) are refused with a message saying how to
 * re-save them. */
int pf_pth_load(pf_ctx *ctx, const char *path, pf_named_tensor **out);
/* The same from a whole .pth file in memory (used by the fuzz target). */
int pf_pth_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size, pf_named_tensor **out);
/* A weights file of either kind, told by its first bytes (a zip archive,
 * or an older PyTorch file, is a .pth; anything else is read as
 * safetensors). */
int pf_weights_load(pf_ctx *ctx, const char *path, pf_named_tensor **out);

/* ========================================================================
 * 9. Runtime
 * ======================================================================== */

/* Threads used by kernels and BLAS (default: PF_THREADS from the
 * environment, else the number of cores). */
void pf_set_num_threads(int n);
int pf_get_num_threads(void);

/* Profiling: with it on, the library adds the wall time of every module's
 * forward, every op's backward and every optimizer step to counters named
 * after them; programs may add their own (data loading, the loss). Printed
 * as a table sorted by time. Not thread-safe: profile one training loop. */
typedef enum pf_profile_phase {
    PF_PROFILE_FORWARD,
    PF_PROFILE_BACKWARD,
    PF_PROFILE_OTHER,
} pf_profile_phase;
void pf_profile_enable(bool on);
bool pf_profile_enabled(void);
void pf_profile_reset(void);
/* Seconds on a monotonic clock. */
double pf_profile_clock(void);
/* Adds `seconds` to the counter (name, phase); name must stay valid. */
void pf_profile_add(const char *name, pf_profile_phase phase, double seconds);
void pf_profile_fprint(FILE *f);

/* ========================================================================
 * 10. Neural-network operations
 *
 * The functional forms of the layers (as torch.nn.functional), on float
 * tensors, differentiable in every float argument. Images are [N, C, H, W].
 * Square kernels' stride, padding and dilation are given once; a 0 stride
 * or dilation means the default (1, or the kernel size for pooling).
 * ======================================================================== */

/* x @ weight^T + bias: x [..., in], weight [out, in], bias [out] or NULL;
 * the result is [..., out]. The weight is read in place (no transposed
 * copy) and the leading dimensions of x form one matrix product. */
pf_tensor *pf_linear(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias);

/* 2-D convolution (cross-correlation, as PyTorch): x [N, C_in, H, W],
 * weight [C_out, C_in, kH, kW], bias [C_out] or NULL. Output size per side:
 * (H + 2*padding - dilation*(k-1) - 1) / stride + 1, rounded down; an error
 * when it would be below 1 or when the channels differ, e.g.
 *   pf_conv2d: input [8,3,28,28] has 3 channels but weight [32,1,5,5] expects 1
 * Runs as im2col and a matrix product per chunk of images; float32 with a
 * 5x5 kernel, stride 1, no dilation, at least 8 channels in and out and at
 * least 64 tiles of 4x4 outputs in the batch, by Winograd's F(4x4, 5x5) (relative rounding errors about 1e-6 rather than
 * 1e-7; PF_CONV=im2col in the environment turns it off). */
pf_tensor *pf_conv2d(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias, int stride, int padding,
                     int dilation);
/* pf_max_pool2d(ctx, pf_conv2d(ctx, x, weight, bias, stride, padding,
 * dilation), pool_kernel, pool_stride, pool_padding), the same values and
 * gradients, without storing the convolution's output: each chunk of images
 * is pooled while it is in cache (Sequential runs Conv2d, [ReLU,] MaxPool2d
 * so). */
pf_tensor *pf_conv2d_max_pool2d(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias, int stride,
                                int padding, int dilation, int pool_kernel, int pool_stride, int pool_padding);
/* Transposed convolution (the gradient of pf_conv2d with respect to its
 * input): weight [C_in, C_out, kH, kW], bias [C_out] or NULL. Output size
 * per side: (H - 1)*stride - 2*padding + dilation*(k-1) + output_padding + 1;
 * output_padding must be smaller than the stride or the dilation (as
 * PyTorch). */
pf_tensor *pf_conv_transpose2d(pf_ctx *ctx, pf_tensor *x, pf_tensor *weight, pf_tensor *bias, int stride,
                               int padding, int output_padding, int dilation);

/* Max and average pooling over kernel x kernel windows (stride 0: the kernel
 * size). Padding counts as -inf for max and as zeros for average, whose
 * divisor includes the padding (PyTorch's defaults); it may be at most half
 * the kernel. Output sizes round down: (H + 2*padding - kernel) / stride + 1.
 * Max pooling passes NaN through, takes the first maximum on ties and sends
 * the gradient to that position only. */
pf_tensor *pf_max_pool2d(pf_ctx *ctx, pf_tensor *x, int kernel, int stride, int padding);
pf_tensor *pf_avg_pool2d(pf_ctx *ctx, pf_tensor *x, int kernel, int stride, int padding);
/* Average pooling to a fixed output size (at least 1x1; it may exceed the
 * input's), with PyTorch's window bounds floor(i*H/out) .. ceil((i+1)*H/out)
 * (excluded), which overlap when out does not divide H. */
pf_tensor *pf_adaptive_avg_pool2d(pf_ctx *ctx, pf_tensor *x, int out_h, int out_w);

/* Batch normalisation over dimension 1 of x ([N, C] or [N, C, H, W]).
 * Training: normalises with the batch's statistics (biased variance) and
 * updates running_mean/running_var in place (unbiased variance, weight
 * `momentum`), as PyTorch. Evaluation: uses the running statistics.
 * weight and bias ([C]) may be NULL; running statistics may be NULL in
 * training (not in evaluation). Every [C] tensor has x's dtype. Training
 * needs more than one value per channel (N*H*W > 1), as PyTorch. */
pf_tensor *pf_batch_norm(pf_ctx *ctx, pf_tensor *x, pf_tensor *running_mean, pf_tensor *running_var,
                         pf_tensor *weight, pf_tensor *bias, bool training, double momentum, double eps);

/* Dropout: in training, zeroes each element with probability p (drawn from
 * the default generator, one uniform draw per element in row-major order)
 * and scales the others by 1/(1-p); otherwise x. p must lie in [0, 1);
 * with p = 0 or in evaluation the result is x itself (no copy). */
pf_tensor *pf_dropout(pf_ctx *ctx, pf_tensor *x, double p, bool training);
/* x if x > 0, else slope * x. */
pf_tensor *pf_leaky_relu(pf_ctx *ctx, pf_tensor *x, double slope);
/* Guided ReLU, for guided backpropagation (Springenberg et al. 2015): the
 * forward is max(x, 0), the backward passes the incoming gradient g only
 * where x > 0 and g > 0 (dx = g if x > 0 and g > 0, else 0). Put in place
 * of a network's ReLUs, it makes the gradient of a unit with respect to
 * the input an image of what excites that unit. Not a true gradient, so
 * never for training. */
pf_tensor *pf_guided_relu(pf_ctx *ctx, pf_tensor *x);

/* ========================================================================
 * 11. Losses
 *
 * As torch.nn's losses, with a reduction: the mean over elements (the
 * default in PyTorch), their sum, or none (the per-element losses).
 * ======================================================================== */

typedef enum pf_reduction {
    PF_REDUCTION_MEAN = 0,
    PF_REDUCTION_SUM = 1,
    PF_REDUCTION_NONE = 2,
} pf_reduction;

/* (input - target)^2, same shapes. */
pf_tensor *pf_mse_loss(pf_ctx *ctx, pf_tensor *input, pf_tensor *target, pf_reduction reduction);
/* -log softmax(logits)[target]: logits [N, C] float, target [N] int64 class
 * indices in 0..C-1 (an error names a target out of range). Log-softmax
 * and the pick are one fused op, stable for logits of any magnitude.
 * PF_REDUCTION_NONE gives the [N] losses. */
pf_tensor *pf_cross_entropy(pf_ctx *ctx, pf_tensor *logits, const pf_tensor *target, pf_reduction reduction);
/* -logp[target]: logp [N, C] (log-probabilities), target [N] int64;
 * [N] losses with PF_REDUCTION_NONE. */
pf_tensor *pf_nll_loss(pf_ctx *ctx, pf_tensor *logp, const pf_tensor *target, pf_reduction reduction);
/* -(t log p + (1-t) log(1-p)), p in [0, 1] (an error otherwise); the logs
 * are clamped at -100 as PyTorch does, so p = 0 or 1 gives a finite loss.
 * The gradient with respect to p is PyTorch's (p - t) / max(p(1-p), 1e-12),
 * finite at 0 and 1; that with respect to t is log(1-p) - log p, with the
 * clamped logs. */
pf_tensor *pf_bce_loss(pf_ctx *ctx, pf_tensor *prob, pf_tensor *target, pf_reduction reduction);
/* BCE of sigmoid(logits), computed stably: max(x,0) - x t + log(1 + e^-|x|). */
pf_tensor *pf_bce_with_logits(pf_ctx *ctx, pf_tensor *logits, pf_tensor *target, pf_reduction reduction);

/* ========================================================================
 * 12. Modules
 *
 * A module is a layer with its parameters (and buffers, such as batch
 * norm's running statistics), made in a long-lived context. pf_forward runs
 * it on an input in a step context. Parameters are initialised as PyTorch
 * does (Kaiming-uniform with a = sqrt(5) for weights, uniform in
 * +-1/sqrt(fan_in) for biases, from the default generator) and named as
 * PyTorch's state_dict names them ("0.weight", "3.bias",
 * "1.running_mean"), so weights move between PyTorch and profond through
 * safetensors files in both directions.
 *
 * The lecture's network:
 *
 *     pf_module *model = pf_nn_sequential(params, PF_LAYERS(
 *         pf_nn_conv2d(params, 1, 32, 5, NULL), pf_nn_relu(params), pf_nn_max_pool2d(params, 3, 0, 0),
 *         pf_nn_conv2d(params, 32, 64, 5, NULL), pf_nn_relu(params), pf_nn_max_pool2d(params, 2, 0, 0),
 *         pf_nn_flatten(params, 1, -1), pf_nn_linear(params, 256, 200, true), pf_nn_relu(params),
 *         pf_nn_linear(params, 200, 10, true)));
 *     pf_tensor *output = pf_forward(step, model, input);
 * ======================================================================== */

typedef struct pf_module pf_module;

/* Options of the convolution layers; zeros give PyTorch's defaults. */
typedef struct pf_conv_opts {
    int stride;          /* 0: 1 */
    int padding;
    int dilation;        /* 0: 1 */
    int output_padding;  /* ConvTranspose2d only */
    bool no_bias;
} pf_conv_opts;

pf_module *pf_nn_linear(pf_ctx *params, int64_t in_features, int64_t out_features, bool bias);
pf_module *pf_nn_conv2d(pf_ctx *params, int64_t in_channels, int64_t out_channels, int kernel,
                        const pf_conv_opts *opts);
pf_module *pf_nn_conv_transpose2d(pf_ctx *params, int64_t in_channels, int64_t out_channels, int kernel,
                                  const pf_conv_opts *opts);
pf_module *pf_nn_max_pool2d(pf_ctx *params, int kernel, int stride, int padding);
pf_module *pf_nn_avg_pool2d(pf_ctx *params, int kernel, int stride, int padding);
pf_module *pf_nn_adaptive_avg_pool2d(pf_ctx *params, int out_h, int out_w);
/* Batch norm with PyTorch's defaults: eps 1e-5, momentum 0.1, affine,
 * running statistics (buffers running_mean, running_var and the int64
 * num_batches_tracked). */
pf_module *pf_nn_batch_norm1d(pf_ctx *params, int64_t features);
pf_module *pf_nn_batch_norm2d(pf_ctx *params, int64_t channels);
pf_module *pf_nn_dropout(pf_ctx *params, double p);
pf_module *pf_nn_relu(pf_ctx *params);
pf_module *pf_nn_leaky_relu(pf_ctx *params, double slope);
pf_module *pf_nn_tanh(pf_ctx *params);
pf_module *pf_nn_sigmoid(pf_ctx *params);
/* Flattens dimensions start_dim..end_dim (PyTorch's nn.Flatten: 1, -1). */
pf_module *pf_nn_flatten(pf_ctx *params, int start_dim, int end_dim);
/* Splits dimension dim into the given sizes. */
pf_module *pf_nn_unflatten(pf_ctx *params, int dim, int ndim, const int64_t *sizes);
/* Runs n modules one after the other; their parameters are named
 * "<index>.<name>". */
pf_module *pf_nn_sequential(pf_ctx *params, int n, pf_module *const *layers);
#define PF_LAYERS(...)                                                        \
    (int)(sizeof((pf_module *const[]){__VA_ARGS__}) / sizeof(pf_module *)), \
        (pf_module *const[]) { __VA_ARGS__ }
/* The same with named children, as a PyTorch model with submodules: the
 * tensors are "<name>.<tensor>" ("features.0.weight") and the repr shows
 *   AlexNet(
 *     (features): Sequential( ... )
 *     (avgpool): AdaptiveAvgPool2d(output_size=(6, 6))
 *     ...
 * kind is the class name printed ("AlexNet"; NULL: "Sequential"). Names are
 * copied; they are unique, not empty and without '.'. A name may be NULL
 * for a step without tensors that is no submodule in PyTorch (the
 * torch.flatten call of torchvision's forward): it runs in its place but is
 * not printed and has no state name. */
pf_module *pf_nn_named_sequential(pf_ctx *params, const char *kind, int n, const char *const *names,
                                  pf_module *const *layers);

/* Runs the module on x; the activations and tape go into ctx. */
pf_tensor *pf_forward(pf_ctx *ctx, pf_module *m, pf_tensor *x);
/* Training mode (the default) or evaluation mode, for the module and all
 * its children: affects dropout and batch norm. */
void pf_module_train(pf_module *m, bool training);
bool pf_module_is_training(const pf_module *m);

/* The parameters (tensors that require grad), or the whole state
 * (parameters and buffers), in state_dict order with state_dict names.
 * The arrays belong to the module. Return the count, -1 on error. */
int pf_module_parameters(pf_module *m, pf_named_tensor **out);
int pf_module_state(pf_module *m, pf_named_tensor **out);
/* Total number of parameter elements. */
int64_t pf_module_num_parameters(pf_module *m);
/* The layer's kind ("Conv2d", "Sequential", ...). */
const char *pf_module_kind(const pf_module *m);
/* Children of a Sequential (0 and NULL for other modules). */
int pf_module_num_children(const pf_module *m);
pf_module *pf_module_child(const pf_module *m, int i);
/* The name of child i of a pf_nn_named_sequential ("features"); NULL for
 * an unnamed step and for the children of other modules. */
const char *pf_module_child_name(const pf_module *m, int i);
/* PyTorch's repr of the module, e.g.
 *   Sequential(
 *     (0): Conv2d(1, 32, kernel_size=(5, 5), stride=(1, 1))
 *     (1): ReLU()
 *   ) */
void pf_module_fprint(FILE *f, const pf_module *m);

/* Called after a module's forward with its output (for feature capture,
 * as PyTorch's register_forward_hook). One hook per module; NULL removes. */
typedef void (*pf_forward_hook)(pf_module *m, pf_tensor *input, pf_tensor *output, void *user);
void pf_module_set_forward_hook(pf_module *m, pf_forward_hook hook, void *user);

/* Model files: the state as safetensors (atomic write). Loading checks that
 * the file has every tensor of the state with the same shape and dtype and
 * nothing else, and says which name is missing, unexpected or wrong. It
 * reads safetensors and PyTorch's .pth files alike (pf_weights_load). */
bool pf_module_save(pf_module *m, const char *path);
bool pf_module_load(pf_module *m, const char *path);

/* torchvision's AlexNet and VGG16 (configuration D) with `classes` outputs:
 * the same layers and state_dict names ("features.0.weight",
 * "classifier.6.bias"; initialised with PyTorch's defaults, where
 * torchvision's VGG draws normal weights), so torchvision's weight files
 * (safetensors or .pth) load into them; torchvision's forward flattens
 * between avgpool and classifier, and so do these. Inputs [N, 3, H, W]
 * with H, W >= 63 (AlexNet) or 32 (VGG16); 224 x 224 is the usual size.
 * AlexNet has 61.1 M parameters (244 MB), VGG16 138.4 M (553 MB). */
pf_module *pf_model_alexnet(pf_ctx *params, int64_t classes);
pf_module *pf_model_vgg16(pf_ctx *params, int64_t classes);
/* The same with every width (channels, hidden features) divided by
 * divisor (1..4096, rounded up): small models of the same shape, for
 * tests. */
pf_module *pf_model_alexnet_scaled(pf_ctx *params, int64_t classes, int divisor);
pf_module *pf_model_vgg16_scaled(pf_ctx *params, int64_t classes, int divisor);

/* A model from a textual Sequential: layer names and arguments as PyTorch's
 * constructors, separated by spaces, e.g.
 *   "conv2d(1,32,5) relu maxpool2d(3) conv2d(32,64,5) relu maxpool2d(2)
 *    flatten linear(256,200) relu linear(200,10)"
 * Keyword arguments are accepted where PyTorch has them (conv2d(1,8,3,
 * stride=2,padding=1), linear(4,2,bias=false), dropout(p=0.5)). Also the
 * names "lecture-cnn" (the network above) and "mlp" (784-256-256-10 with
 * ReLU, flattening its input). NULL with an error naming the offending
 * word otherwise. A spec may describe at most 2^27 parameter and buffer
 * elements (512 MB of float32); build larger models with the constructors.
 * The names "alexnet" and "vgg16" give torchvision's models above with
 * 1000 classes (not bound by that limit), and "alexnet/N", "vgg16/N" their
 * versions with widths divided by N. */
pf_module *pf_model_from_spec(pf_ctx *params, const char *spec);

/* ========================================================================
 * 13. Optimizers
 *
 * The update rules of torch.optim, applied in place to parameters that
 * have a ->grad (parameters without one are skipped, as in PyTorch; a
 * gradient of zeros left by pf_optim_zero_grad is not "without one").
 * Optimizer state (momentum buffers, Adam moments) lives in the context
 * given at creation; it is allocated, as zeros, on the first step where a
 * parameter has a gradient, and nothing more is allocated after that.
 * Updates compute in the parameter's dtype (float32 as PyTorch does).
 *
 *     pf_optim *opt = pf_optim_sgd(params_ctx, n, params, (pf_sgd_opts){.lr = 1e-2});
 *     for (...) {                      // each batch
 *         pf_optim_zero_grad(opt);
 *         pf_backward(loss);
 *         pf_optim_step(opt);
 *     }
 * ======================================================================== */

typedef struct pf_optim pf_optim;

/* Zeros mean PyTorch's defaults (momentum 0, dampening 0, weight decay 0).
 * The step is torch.optim.SGD's: g = grad + weight_decay * p; with
 * momentum, buf = g on a parameter's first step, then
 * buf = momentum * buf + (1 - dampening) * g, and g = buf (Nesterov:
 * g + momentum * buf); then p -= lr * g. */
typedef struct pf_sgd_opts {
    double lr;
    double momentum;
    double dampening;
    double weight_decay;
    bool nesterov;
} pf_sgd_opts;

/* Zero betas/eps mean PyTorch's defaults (0.9, 0.999, 1e-8). The step is
 * torch.optim.Adam's (AdamW's), with a step count t kept per parameter:
 * m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2,
 * p -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps). */
typedef struct pf_adam_opts {
    double lr;
    double beta1, beta2;
    double eps;
    double weight_decay;  /* Adam: added to the gradient; AdamW: decoupled */
} pf_adam_opts;

/* An optimizer over n parameters (float, contiguous leaf tensors; the array
 * is copied). NULL with an error on a NULL context or parameter, or on an
 * invalid option: lr, momentum, weight decay or eps below 0, a beta outside
 * [0, 1), Nesterov without momentum or with dampening. */
pf_optim *pf_optim_sgd(pf_ctx *ctx, int n, pf_tensor *const *params, pf_sgd_opts opts);
pf_optim *pf_optim_adam(pf_ctx *ctx, int n, pf_tensor *const *params, pf_adam_opts opts);
pf_optim *pf_optim_adamw(pf_ctx *ctx, int n, pf_tensor *const *params, pf_adam_opts opts);
/* The parameters of a module as the array the constructors take. */
pf_tensor **pf_module_parameter_array(pf_module *m, int *n);
/* Updates every parameter that has a gradient. Every gradient is checked
 * first (the parameter's shape, dtype and device, contiguous): on an error
 * no parameter changes and the call returns false. */
bool pf_optim_step(pf_optim *opt);
/* Fills the existing gradients with zeros (as PyTorch's zero_grad with
 * set_to_none=False); parameters without a gradient keep none. */
void pf_optim_zero_grad(pf_optim *opt);
/* The learning rate (NAN with an error for NULL), and setting it (an error,
 * and no change, for a negative one). */
double pf_optim_get_lr(const pf_optim *opt);
void pf_optim_set_lr(pf_optim *opt, double lr);
/* SGD's momentum (>= 0) or Adam's beta1 (in [0, 1)): what one-cycle
 * schedules vary. An SGD optimizer made without momentum starts its
 * momentum buffers when given one, as PyTorch's does. */
void pf_optim_set_momentum(pf_optim *opt, double momentum);

/* Learning-rate schedules, as torch.optim.lr_scheduler, evaluated at a step
 * count (epochs for step and cosine as usually used, batches for
 * one-cycle): the caller calls pf_schedule_apply before each step. The
 * value at t is the one PyTorch's scheduler sets after t calls of its
 * step(). One-cycle (anneal_strategy='cos', three_phase=False): the lr
 * rises from lr/div_factor at t = 0 to lr at t = pct_start*t_max - 1, then
 * falls to lr/div_factor/final_div_factor at t = t_max - 1, both along a
 * half cosine, while the momentum goes from max_momentum down to
 * base_momentum and back; t may not exceed t_max. */
typedef enum pf_schedule_kind {
    PF_SCHEDULE_CONSTANT,
    PF_SCHEDULE_STEP,      /* lr * gamma^(floor(t / step_size)) */
    PF_SCHEDULE_COSINE,    /* eta_min + (lr - eta_min)(1 + cos(pi t / t_max))/2 */
    PF_SCHEDULE_ONE_CYCLE, /* OneCycleLR, cosine annealing, cycling momentum */
} pf_schedule_kind;

typedef struct pf_schedule {
    pf_schedule_kind kind;
    double lr;                /* base lr (one-cycle: the maximum lr) */
    int64_t step_size;        /* step */
    double gamma;             /* step */
    int64_t t_max;            /* cosine: period; one-cycle: total steps */
    double eta_min;           /* cosine */
    double pct_start;         /* one-cycle, 0: 0.3 */
    double div_factor;        /* one-cycle, 0: 25 */
    double final_div_factor;  /* one-cycle, 0: 1e4 */
    double base_momentum;     /* one-cycle, 0: 0.85 */
    double max_momentum;      /* one-cycle, 0: 0.95 */
} pf_schedule;

/* The lr at step t >= 0; NAN with an error for an invalid schedule (a
 * negative lr, step_size or t_max <= 0 where used, pct_start outside
 * [0, 1]) or step. */
double pf_schedule_lr(const pf_schedule *s, int64_t t);
/* Sets the optimizer's lr (and for one-cycle its momentum) for step t;
 * on an error the optimizer is left as it was. */
void pf_schedule_apply(const pf_schedule *s, pf_optim *opt, int64_t t);

/* ========================================================================
 * 14. Data
 * ======================================================================== */

/* Reads an IDX file (as MNIST's), gzip-compressed or plain (gzip is told by
 * its magic bytes 1f 8b, not by the name). The header's type and dimensions
 * (1 to PF_MAX_DIMS) are checked against the data's length exactly: a
 * truncated file, trailing bytes, a truncated or corrupt .gz are errors
 * naming the file and the sizes. Decompressed data is limited to 2 GiB.
 * uint8 data becomes a PF_U8 tensor, int8/int16/int32 PF_I64, float PF_F32,
 * double PF_F64. */
pf_tensor *pf_idx_load(pf_ctx *ctx, const char *path);
/* The same from bytes in memory (already decompressed; for the fuzzer). */
pf_tensor *pf_idx_parse(pf_ctx *ctx, const uint8_t *bytes, size_t size);

/* A labelled image set kept as bytes: images uint8 [N, H, W], labels int64
 * [N] in 0..classes-1. mean and std are those of the training images, in
 * [0, 1] units (std with divisor N - 1, as torch.std; MNIST: 0.1307 and
 * 0.3081). name is the folder's last component ("mnist"). A dataset built
 * by hand for pf_loader_new needs contiguous tensors and std > 0. */
typedef struct pf_dataset {
    pf_tensor *images;
    pf_tensor *labels;
    int64_t count;
    int64_t classes;
    float mean, std;
    char name[64];
} pf_dataset;

/* Finds a data folder: a NAME without '/' ("mnist", "fashion-mnist") is
 * looked up as $PROFOND_DATA/NAME (default: data/NAME in the current
 * folder), then, for fashion-mnist, /usr/share/datasets/fashion-mnist, then
 * as the folder NAME itself; anything with a '/' is taken as the folder as
 * it is. Writes the first existing folder into buf (n bytes); otherwise
 * false with an error listing where it looked. scripts/fetch-mnist.sh
 * downloads MNIST into $PROFOND_DATA/mnist. */
bool pf_data_find(const char *name_or_dir, char *buf, size_t n);
/* Loads the training (train = true) or test set of an MNIST-style folder
 * (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 * t10k-labels-idx1-ubyte, each plain or .gz) into ctx: the images as they
 * are (uint8, no float copy) and the labels as int64, checked to be
 * [N, H, W], [N] and 0..9. mean/std are computed from the training images
 * in both cases (the test split reads them for that, then lets them go).
 * Nothing is cached between calls. On failure *out is zeroed. */
bool pf_dataset_load(pf_ctx *ctx, const char *name_or_dir, bool train, pf_dataset *out);

/* Batches of a dataset: images converted to float32 [B, 1, H, W] as
 * (pixel/255 - mean)/std (in float32, as torchvision's ToTensor and
 * Normalize), labels int64 [B]; one batch at a time, so the dataset stays
 * bytes. With shuffle, epoch e (from 0) visits the examples in a
 * Fisher-Yates permutation drawn from a pf_rng seeded with seed + e:
 * runs are reproducible and epochs differ. Otherwise the order is 0..N-1.
 * drop_last skips a last batch smaller than batch_size (>= 1). The loader
 * and its permutation live in the ctx given to pf_loader_new; it keeps a
 * copy of the pf_dataset struct, but the dataset's tensors must outlive it. */
typedef struct pf_loader pf_loader;
typedef struct pf_loader_opts {
    int64_t batch_size;
    bool shuffle;
    bool drop_last;
    uint64_t seed;
} pf_loader_opts;
pf_loader *pf_loader_new(pf_ctx *ctx, const pf_dataset *data, pf_loader_opts opts);
/* The next batch of the current epoch, made in ctx (the step context,
 * reset by the caller each step: once it has grown to a batch, no more
 * memory is taken from the system); false (without an error, and NULL
 * outputs) when the epoch is over, after which the next call starts the
 * next epoch. */
bool pf_loader_next(pf_loader *l, pf_ctx *ctx, pf_tensor **images, pf_tensor **labels);
/* Batches per epoch: ceil(N / batch_size), or floor with drop_last. */
int64_t pf_loader_num_batches(const pf_loader *l);

/* ========================================================================
 * 15. Analysis
 *
 * Tools to look at data and at what a network learned.
 * ======================================================================== */

/* ---- PCA ----------------------------------------------------------------
 * Principal component analysis: the linear autoencoder's closed form. The
 * encoder f(x) = C (x - m) and the decoder g(z) = Cᵀ z + m, with m the
 * mean of the training rows and C [d, D] the d leading eigenvectors of
 * their covariance, minimise the mean squared reconstruction error
 * (1/N) Σ_n ||x_n - g(f(x_n))||² over all linear maps through R^d; the
 * minimum is (N - 1)/N times the sum of the discarded variances.
 *
 *     pf_pca *pca = pf_pca_fit(ctx, x, 32);          // x [N, 784]
 *     pf_tensor *z = pf_pca_encode(step, pca, x);    // [N, 32]
 *     pf_tensor *xr = pf_pca_decode(step, pca, z);   // [N, 784]
 *
 * The fit computes the mean and the covariance (divisor N - 1, as
 * sklearn's PCA and torch.cov) in double precision, the covariance through
 * BLAS (dsyrk) over chunks of rows, then every eigenvalue and eigenvector
 * with LAPACK (LAPACKE_dsyevd). Each component's sign is fixed, so that a
 * fit is reproducible across machines: its largest-magnitude coordinate is
 * positive (the first one on a tie). A pf_pca and its tensors live in the
 * context given to pf_pca_fit and go with it; they never require grad. */
typedef struct pf_pca pf_pca;

/* Fits a PCA with d components to the rows of x, [N, D] float32 or
 * float64 (or [N, ...]: each example's elements flattened, so images
 * [N, 1, 28, 28] give D = 784), any layout. NULL with an error unless
 * N >= 2, 1 <= d <= D, D <= 16384, and every value is finite, or if LAPACK
 * fails. Memory: the D × D covariance in double, freed before it returns. */
pf_pca *pf_pca_fit(pf_ctx *ctx, const pf_tensor *x, int64_t d);
/* The same PCA keeping only its first d components (1 <= d <= those of p),
 * made in ctx; the tensors are views of p's, which must outlive it. One fit
 * thus serves every latent size. */
pf_pca *pf_pca_head(pf_ctx *ctx, const pf_pca *p, int64_t d);
/* f(x) = (x - mean) @ componentsᵀ: x [N, D] (or [N, ...] with D elements
 * per example) → [N, d]; float32 or float64, x's dtype. Runs through the
 * ops, so it is differentiable with respect to x. */
pf_tensor *pf_pca_encode(pf_ctx *ctx, const pf_pca *p, pf_tensor *x);
/* g(z) = z @ components + mean: z [N, d] → [N, D]; differentiable in z. */
pf_tensor *pf_pca_decode(pf_ctx *ctx, const pf_pca *p, pf_tensor *z);
/* The mean [D] and the components [d, D] (float32; rows orthonormal, by
 * decreasing variance), every variance of the training data [D] (float64,
 * decreasing: the covariance's eigenvalues, rounding below 0 set to 0; the
 * first d are those of the components kept), and the sizes. NULL or 0 for
 * a NULL p. */
const pf_tensor *pf_pca_mean(const pf_pca *p);
const pf_tensor *pf_pca_components(const pf_pca *p);
const pf_tensor *pf_pca_variances(const pf_pca *p);
int64_t pf_pca_dim(const pf_pca *p);        /* D */
int64_t pf_pca_latent(const pf_pca *p);     /* d */

/* ---- t-SNE --------------------------------------------------------------
 * A map of high-dimensional points in the plane that keeps neighbours
 * together (van der Maaten & Hinton 2008), computed in O(N log N) per
 * iteration by the Barnes-Hut algorithm (van der Maaten 2014), as his
 * reference implementation bhtsne does:
 *
 *   - affinities: each point's 3 x perplexity nearest neighbours (exact,
 *     Euclidean) get p_{j|i} ∝ exp(-beta_i |x_i - x_j|²), with beta_i set
 *     by bisection so that the entropy of p_{.|i} is log(perplexity); then
 *     P = (p_{j|i} + p_{i|j}) / 2N, sparse and symmetric;
 *   - the map y [N, 2] starts from N(0, 1e-4²) draws of a pf_rng seeded
 *     with `seed`, then descends KL(P || Q), q_ij ∝ 1 / (1 + |y_i - y_j|²),
 *     with momentum 0.5 then 0.8, per-coordinate gains (delta-bar-delta)
 *     and P multiplied by 12 over the first 250 iterations (a quarter of
 *     them when there are fewer than 1000); the repulsive forces come from
 *     a quadtree whose cells stand for their points when their half width
 *     is below theta times their distance (bhtsne's test; theta 0.5 errs
 *     by a few percent on the forces, which the descent tolerates; 0.1 by
 *     a fraction of a percent, about 4 times slower).
 *
 *     pf_tensor *y = pf_tsne(ctx, features, &(pf_tsne_opts){.seed = 1});  // [5000, 2]
 *     double acc = pf_knn_accuracy(y, labels);  // do the classes stay apart?
 *
 * Cost: the neighbour search is brute force through BLAS, O(N² D); each
 * iteration is O(N log N). 5,000 MNIST digits (784 values), 1,000
 * iterations: about 6 s of CPU time in all, 0.7 s of it the affinities;
 * the iterations' force loop runs on the library's threads. With a fixed
 * seed the result is the same bit for bit on any number of threads. */
typedef struct pf_tsne_opts {
    double perplexity;     /* effective number of neighbours; 0: 30 */
    int iterations;        /* 0: 1000 */
    double theta;          /* Barnes-Hut accuracy, 0: 0.5 (smaller: slower, more exact) */
    double learning_rate;  /* 0: max(200, N / 12) (bhtsne's 200; Belkina et al. 2019 for large N) */
    uint64_t seed;         /* of the initial map */
    FILE *log;             /* if not NULL: progress lines (KL divergence every 100 iterations) */
    double *kl_divergence; /* if not NULL: receives KL(P || Q) at the end (Q normalised by the tree's estimate) */
} pf_tsne_opts;

/* The t-SNE map [N, 2] (float32, made in ctx, centred) of the rows of x:
 * [N, D] float32 or float64 (read as float32), or [N, ...] with each
 * example's elements flattened (images [N, 1, 28, 28] give D = 784), any
 * layout. opts may be
 * NULL (all defaults). NULL with an error unless 4 <= N <= 2^26, every
 * value is finite, 1 <= perplexity <= (N - 1) / 3, and iterations, theta
 * and learning rate are not negative. Memory: O(N (D + perplexity)). */
pf_tensor *pf_tsne(pf_ctx *ctx, const pf_tensor *x, const pf_tsne_opts *opts);

/* Leave-one-out 1-nearest-neighbour accuracy: the fraction of points whose
 * nearest other point (Euclidean; the lower index on a tie) has the same
 * label. points [N, D] (or [N, ...]) float, labels [N] int64, N >= 2. A
 * number for "how well a map keeps the classes apart" (1: perfectly;
 * chance for C balanced classes: about 1/C). Exact, O(N² D) through BLAS.
 * NAN with an error on bad arguments or non-finite points. */
double pf_knn_accuracy(const pf_tensor *points, const pf_tensor *labels);

/* ========================================================================
 * 16. Images
 *
 * PNG and JPEG files, decoded by libpng and libjpeg(-turbo), become float32
 * [3, H, W] tensors in [0, 1] (byte / 255, as torchvision's ToTensor):
 * grey becomes RGB, alpha is dropped (as PIL's convert("RGB")), palettes
 * are expanded and 16-bit samples scaled to 8 bits. The format is told by
 * the magic bytes, not the name. A truncated or corrupt file is an error
 * (libjpeg's warnings, such as a premature end of data, count as errors),
 * and so is a header announcing more than 16384 pixels per side or 2^26
 * pixels in all, or more pixels than the compressed data could hold.
 * ======================================================================== */

pf_tensor *pf_image_load(pf_ctx *ctx, const char *path);
/* The same from a whole file in memory. */
pf_tensor *pf_image_decode(pf_ctx *ctx, const uint8_t *bytes, size_t size);

/* Bilinear resampling of a float32 [C, H, W] or [N, C, H, W] image to
 * out_h x out_w, as torch.nn.functional.interpolate(mode="bilinear",
 * align_corners=False) without antialiasing: each output pixel reads the 4
 * input pixels around its centre, so a reduction by more than 2 skips
 * pixels (PIL's resize, which torchvision's Resize uses on PIL images,
 * averages them instead). Not differentiable. */
pf_tensor *pf_image_resize(pf_ctx *ctx, pf_tensor *img, int64_t out_h, int64_t out_w);

typedef enum pf_image_norm {
    /* 0.5 + 0.5 (img - mean) / std, with the mean and the standard
     * deviation (unbiased) of the whole image, all channels together: the
     * lecture's slide, img = 0.5 + 0.5 * (img - img.mean()) / img.std(). */
    PF_NORM_SLIDE = 0,
    /* (img - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225], channel by
     * channel: what torchvision's ImageNet models were trained with. */
    PF_NORM_IMAGENET = 1,
    PF_NORM_NONE = 2,
} pf_image_norm;

typedef struct pf_image_prep {
    int resize;          /* shorter side to this length, the longer one to
                            floor(resize * long / short), as torchvision's
                            Resize(resize) (here bilinear, see above); 0: none */
    int crop;            /* a centred crop x crop square, as torchvision's
                            CenterCrop (offsets round half to even); 0: none */
    pf_image_norm norm;
} pf_image_prep;

/* A [3, H, W] image made into a model's input [1, 3, H', W']: resized,
 * cropped, then normalised, in that order (the slide's statistics are
 * those of the cropped image). The usual ImageNet evaluation is
 * {256, 224, ...}; the slide fed the whole image as it was, {0, 0,
 * PF_NORM_SLIDE}. A crop larger than the image is an error. */
pf_tensor *pf_image_prepare(pf_ctx *ctx, pf_tensor *img, const pf_image_prep *prep);

/* The 1000 classes of ImageNet (ILSVRC 2012) in the order of the outputs of
 * torchvision's models, with torchvision's names: pf_imagenet_class(0) is
 * "tench", 208 "Labrador retriever"; NULL outside 0..999. */
#define PF_IMAGENET_CLASSES 1000
const char *pf_imagenet_class(int index);

#ifdef __cplusplus
}
#endif

#endif /* PROFOND_H */
