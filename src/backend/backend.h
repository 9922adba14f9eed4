/*
 * backend.h — the interface between operations and kernels.
 *
 * An op (src/ops/) checks shapes, broadcasts, allocates its output and
 * records the tape; then it calls one of the kernels below through the
 * backend of its tensors' device. Kernels only compute: no shape logic, no
 * allocation policy, no autograd. The CPU backend (src/backend/cpu/) fills
 * this table; a CUDA backend fills the same table with device kernels.
 *
 * Kernels see tensors as pf_kview: a data pointer to element 0 plus shape and
 * strides in elements. Unless a kernel says otherwise, operands may be
 * strided (including stride 0 for broadcast dimensions) and the output
 * has the shape the op gave it. Kernels return false and record an error
 * (pf_fail) when they cannot run, for instance on an index out of range.
 */
#ifndef PF_BACKEND_H
#define PF_BACKEND_H

#include "profond.h"

typedef struct pf_kview {
    char *data;              /* element 0, offset already applied */
    pf_dtype dtype;
    int ndim;
    int64_t shape[PF_MAX_DIMS];
    int64_t stride[PF_MAX_DIMS];
} pf_kview;

/* The kernel view of a tensor. */
pf_kview pf_kview_of(const pf_tensor *t);

/* Elementwise maps of one input; p0 and p1 are the op's scalar parameters. */
typedef enum pf_unary_op {
    PF_UNARY_NEG,
    PF_UNARY_EXP,
    PF_UNARY_LOG,
    PF_UNARY_SQRT,
    PF_UNARY_ABS,
    PF_UNARY_TANH,
    PF_UNARY_SIGMOID,
    PF_UNARY_RELU,
    PF_UNARY_POW,         /* x ^ p0 */
    PF_UNARY_CLAMP,       /* min(max(x, p0), p1) */
    PF_UNARY_ADD_SCALAR,  /* x + p0 */
    PF_UNARY_MUL_SCALAR,  /* x * p0 */
    PF_UNARY_LEAKY_RELU,  /* x > 0 ? x : p0 * x */
    PF_UNARY_GUIDED_RELU, /* max(x, 0); backward dy where x > 0 and dy > 0, else 0 */
} pf_unary_op;

typedef enum pf_binary_op {
    PF_BINARY_ADD,
    PF_BINARY_SUB,
    PF_BINARY_MUL,
    PF_BINARY_DIV,
} pf_binary_op;

/* C = alpha * op(A) @ op(B) + beta * C for `batch` matrices, row-major, where
 * op transposes when asked. Batch item i uses a + i*stride_a (elements; a
 * stride of 0 repeats one matrix). */
typedef struct pf_gemm_args {
    pf_dtype dtype;
    bool trans_a, trans_b;
    int64_t m, n, k;
    const void *a;
    int64_t lda, stride_a;
    const void *b;
    int64_t ldb, stride_b;
    void *c;
    int64_t ldc, stride_c;
    double alpha, beta;
    int64_t batch;
    /* NULL, or m values of the type of C, value i added to row i of C
     * after the product (C = alpha * op(A) @ op(B) + beta * C + bias):
     * a convolution's bias, fused into the product's last writes. */
    const void *row_bias;
} pf_gemm_args;

/* Geometry of "along one dimension" kernels on contiguous data: the tensor
 * is seen as [outer, n, inner] with the chosen dimension in the middle. */
typedef struct pf_dim_split {
    int64_t outer, n, inner;
} pf_dim_split;

/* Geometry of a 2-D convolution on contiguous NCHW data; weight is
 * [c_out, c_in, k_h, k_w]. */
typedef struct pf_conv2d_geom {
    int64_t n, c_in, h_in, w_in;
    int64_t c_out, h_out, w_out;
    int64_t k_h, k_w;
    int64_t stride, padding, dilation;
} pf_conv2d_geom;

/* Geometry of 2-D pooling on contiguous NCHW data (c channels in and out).
 * Adaptive pooling uses only the sizes. */
typedef struct pf_pool2d_geom {
    int64_t n, c, h_in, w_in, h_out, w_out;
    int64_t kernel, stride, padding;
} pf_pool2d_geom;

/* Arguments of one optimizer step (see torch.optim for the formulas). */
typedef struct pf_sgd_step_args {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
    bool first_step;   /* momentum buffer starts as the gradient */
} pf_sgd_step_args;

typedef struct pf_adam_step_args {
    double lr, beta1, beta2, eps, weight_decay;
    bool decoupled;    /* AdamW */
    int64_t step;      /* 1 for the first step */
} pf_adam_step_args;

typedef struct pf_backend {
    const char *name;

    /* Storage for a tensor made in ctx, aligned to 64 bytes. */
    void *(*storage_alloc)(pf_ctx *ctx, size_t bytes);

    /* dst[...] = value. */
    bool (*fill)(const pf_kview *dst, double value);
    /* dst[...] = src[...], same shape, converting dtype if they differ. */
    bool (*copy)(const pf_kview *dst, const pf_kview *src);

    /* out = f(x); out is contiguous, x has out's shape. */
    bool (*unary)(pf_unary_op op, const pf_kview *out, const pf_kview *x, double p0, double p1);
    /* dx = dy * f'(x) (some ops use y = f(x) instead of x); all contiguous. */
    bool (*unary_backward)(pf_unary_op op, const pf_kview *dx, const pf_kview *dy,
                           const pf_kview *x, const pf_kview *y, double p0, double p1);
    /* out = a op b; a and b have out's shape (broadcast dims have stride 0). */
    bool (*binary)(pf_binary_op op, const pf_kview *out, const pf_kview *a, const pf_kview *b);

    /* Sums the last nreduce dimensions of in; out (contiguous) has the
     * shape of in's leading in->ndim - nreduce dimensions. */
    bool (*sum_last)(const pf_kview *out, const pf_kview *in, int nreduce);
    /* Largest value along in's last dimension and its first position:
     * values and indices (int64) are contiguous with in's leading shape. */
    bool (*max_last)(const pf_kview *values, const pf_kview *indices, const pf_kview *in);

    bool (*gemm)(const pf_gemm_args *args);

    /* Softmax (or log-softmax) along the middle dimension of contiguous
     * data, and its backward: dx from dy and the forward's output y. */
    bool (*softmax)(bool log, pf_dtype dtype, void *out, const void *in, pf_dim_split s);
    bool (*softmax_backward)(bool log, pf_dtype dtype, void *dx, const void *dy, const void *y,
                             pf_dim_split s);

    /* Index kernels on contiguous data, int64 indices checked against
     * the size they index (error on a bad one):
     *   index_select: out[o, j, i] = in[o, index[j], i]     (in is [outer, n, inner],
     *                                                         out [outer, n_index, inner])
     *   index_add:    dst[o, index[j], i] += src[o, j, i]
     *   gather:       out[o, j, i] = in[o, index[o, j, i], i] (index and out [outer, n_index, inner])
     *   scatter_add:  dst[o, index[o, j, i], i] += src[o, j, i] */
    bool (*index_select)(pf_dtype dtype, void *out, const void *in, const int64_t *index,
                         int64_t n_index, pf_dim_split in_split);
    bool (*index_add)(pf_dtype dtype, void *dst, const void *src, const int64_t *index,
                      int64_t n_index, pf_dim_split dst_split);
    bool (*gather)(pf_dtype dtype, void *out, const void *in, const int64_t *index,
                   int64_t n_index, pf_dim_split in_split);
    bool (*scatter_add)(pf_dtype dtype, void *dst, const void *src, const int64_t *index,
                        int64_t n_index, pf_dim_split dst_split);

    /* Convolution on contiguous data: y = conv(x, w) + bias (bias may be
     * NULL); the gradient with respect to x (dx overwritten); and with
     * respect to w and bias (dw and db overwritten; db may be NULL). */
    bool (*conv2d)(pf_dtype dtype, const pf_conv2d_geom *g, void *y, const void *x, const void *w,
                   const void *bias);
    bool (*conv2d_backward_input)(pf_dtype dtype, const pf_conv2d_geom *g, void *dx, const void *dy,
                                  const void *w);
    bool (*conv2d_backward_weight)(pf_dtype dtype, const pf_conv2d_geom *g, void *dw, void *db, const void *dy,
                                   const void *x);

    /* Optional (NULL where a backend has none): a convolution g whose
     * output goes straight into max pooling p (p->n, p->c, p->h_in, p->w_in
     * are g's n, c_out, h_out, w_out), without keeping the convolution's
     * output; y and indices (NULL: no backward will need them) as
     * max_pool2d writes them. Its backward takes the pooled output's
     * gradient dy and overwrites dx (NULL: not wanted), dw and db (NULL:
     * not wanted). Same results as the two ops in turn. */
    bool (*conv2d_max_pool2d)(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *y,
                              int64_t *indices, const void *x, const void *w, const void *bias);
    bool (*conv2d_max_pool2d_backward)(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *dx,
                                       void *dw, void *db, const void *dy, const int64_t *indices, const void *x,
                                       const void *w);

    /* Pooling on contiguous data. max_pool2d also writes, for each output,
     * the flat position h*w_in + w of its maximum in its input plane,
     * unless indices is NULL (no backward will need them); backward
     * kernels overwrite dx. */
    bool (*max_pool2d)(pf_dtype dtype, const pf_pool2d_geom *g, void *y, int64_t *indices, const void *x);
    bool (*max_pool2d_backward)(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy,
                                const int64_t *indices);
    bool (*avg_pool2d)(pf_dtype dtype, const pf_pool2d_geom *g, void *y, const void *x);
    bool (*avg_pool2d_backward)(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy);
    bool (*adaptive_avg_pool2d)(pf_dtype dtype, const pf_pool2d_geom *g, void *y, const void *x);
    bool (*adaptive_avg_pool2d_backward)(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy);

    /* Batch norm on contiguous [n, c, s] data (s = H*W, or 1). stats
     * computes each channel's batch mean and 1/sqrt(biased var + eps);
     * apply computes y = (x - mean) * invstd * weight + bias (weight, bias
     * may be NULL); backward computes dx (with the batch-statistics term
     * when training, else as a fixed affine map), dweight and dbias (each
     * may be NULL). mean and invstd are [c] arrays of the data's dtype. */
    bool (*batch_norm_stats)(pf_dtype dtype, int64_t n, int64_t c, int64_t s, const void *x, void *mean,
                             void *invstd, double eps);
    bool (*batch_norm_apply)(pf_dtype dtype, int64_t n, int64_t c, int64_t s, void *y, const void *x,
                             const void *mean, const void *invstd, const void *weight, const void *bias);
    bool (*batch_norm_backward)(pf_dtype dtype, int64_t n, int64_t c, int64_t s, void *dx, void *dweight,
                                void *dbias, const void *dy, const void *x, const void *mean, const void *invstd,
                                const void *weight, bool training);

    /* Cross-entropy of logits [n, c] against int64 targets (checked to lie
     * in 0..c-1): losses[i] = -log softmax(logits_i)[target_i]; prob gets
     * the softmax, kept for the backward, which computes
     * dlogits = (prob - onehot(target)) * dloss[i]. */
    bool (*cross_entropy)(pf_dtype dtype, int64_t n, int64_t c, const void *logits, const int64_t *target,
                          void *losses, void *prob);
    bool (*cross_entropy_backward)(pf_dtype dtype, int64_t n, int64_t c, void *dlogits, const void *prob,
                                   const int64_t *target, const void *dloss);

    /* Optimizer updates of n contiguous elements, in place. SGD's buffer
     * is NULL when momentum is 0. */
    bool (*sgd_step)(pf_dtype dtype, int64_t n, void *param, const void *grad, void *momentum_buffer,
                     const pf_sgd_step_args *args);
    bool (*adam_step)(pf_dtype dtype, int64_t n, void *param, const void *grad, void *exp_avg,
                      void *exp_avg_sq, const pf_adam_step_args *args);
} pf_backend;

/* The backend of a device, or NULL with an error when it is not built in. */
const pf_backend *pf_backend_get(pf_device device);

/* The CPU backend's table (src/backend/cpu/cpu_backend.c). */
extern const pf_backend pf_cpu_backend;

#endif
