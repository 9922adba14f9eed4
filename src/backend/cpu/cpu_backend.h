/*
 * cpu_backend.h — the CPU kernels, one function per entry of pf_backend
 * (backend.h says what each computes). Implemented in the cpu_*.c files.
 */
#ifndef PF_CPU_BACKEND_H
#define PF_CPU_BACKEND_H

#include "backend/backend.h"
#include "backend/cpu/cpu_parallel.h"

bool pf_cpu_fill(const pf_kview *dst, double value);
bool pf_cpu_copy(const pf_kview *dst, const pf_kview *src);
bool pf_cpu_unary(pf_unary_op op, const pf_kview *out, const pf_kview *x, double p0, double p1);
bool pf_cpu_unary_backward(pf_unary_op op, const pf_kview *dx, const pf_kview *dy, const pf_kview *x,
                           const pf_kview *y, double p0, double p1);
bool pf_cpu_binary(pf_binary_op op, const pf_kview *out, const pf_kview *a, const pf_kview *b);
bool pf_cpu_sum_last(const pf_kview *out, const pf_kview *in, int nreduce);
bool pf_cpu_max_last(const pf_kview *values, const pf_kview *indices, const pf_kview *in);
bool pf_cpu_gemm(const pf_gemm_args *args);
bool pf_cpu_softmax(bool log, pf_dtype dtype, void *out, const void *in, pf_dim_split s);
bool pf_cpu_softmax_backward(bool log, pf_dtype dtype, void *dx, const void *dy, const void *y,
                             pf_dim_split s);
bool pf_cpu_index_select(pf_dtype dtype, void *out, const void *in, const int64_t *index, int64_t n_index,
                         pf_dim_split s);
bool pf_cpu_index_add(pf_dtype dtype, void *dst, const void *src, const int64_t *index, int64_t n_index,
                      pf_dim_split s);
bool pf_cpu_gather(pf_dtype dtype, void *out, const void *in, const int64_t *index, int64_t n_index,
                   pf_dim_split s);
bool pf_cpu_scatter_add(pf_dtype dtype, void *dst, const void *src, const int64_t *index, int64_t n_index,
                        pf_dim_split s);
bool pf_cpu_conv2d(pf_dtype dtype, const pf_conv2d_geom *g, void *y, const void *x, const void *w,
                   const void *bias);
bool pf_cpu_conv2d_backward_input(pf_dtype dtype, const pf_conv2d_geom *g, void *dx, const void *dy,
                                  const void *w);
bool pf_cpu_conv2d_backward_weight(pf_dtype dtype, const pf_conv2d_geom *g, void *dw, void *db, const void *dy,
                                   const void *x);
/* A convolution whose output goes straight into max pooling
 * (backend.h's conv2d_max_pool2d): chunk by chunk where im2col computes it,
 * so the convolution's output lives only in each thread's scratch. */
bool pf_cpu_conv2d_max_pool2d(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *y,
                              int64_t *indices, const void *x, const void *w, const void *bias);
bool pf_cpu_conv2d_max_pool2d_backward(pf_dtype dtype, const pf_conv2d_geom *g, const pf_pool2d_geom *p, void *dx,
                                       void *dw, void *db, const void *dy, const int64_t *indices, const void *x,
                                       const void *w);
/* Its weight and bias gradients straight from the pooled gradient and the
 * positions of the maxima (cpu_conv_pool_grad.c), float32, where
 * pf_cpu_conv_pool_grad_fits. */
#define PF_CPU_POOL_GRAD_MAX_ROWS 8
#define PF_CPU_POOL_GRAD_SETS 4
bool pf_cpu_conv_pool_grad_fits(const pf_conv2d_geom *g, const pf_pool2d_geom *p);
bool pf_cpu_conv_pool_grad_f32(const pf_conv2d_geom *g, const pf_pool2d_geom *p, float *dw, float *db,
                               const float *dy, const int64_t *indices, const float *x);
/* One output channel of it with AVX-512 (cpu_conv_pool_grad_avx512.c). */
void pf_cpu_conv_pool_grad_channel_avx512(const pf_conv2d_geom *g, const pf_pool2d_geom *p, int64_t o, float *dw_o,
                                          float *db_o, const float *dy, const int64_t *indices, const float *x);

/* The most scratch elements the convolution kernels take at once (larger
 * batches run in chunks of images); <= 0 restores the default. For tests. */
void pf_cpu_conv_set_scratch_limit(int64_t elements);
/* Cuts n images into *nchunks chunks of *per (the last may be smaller), as
 * even as possible: `want` images per chunk, fewer where per_image scratch
 * elements each would pass the limit, at least one. */
void pf_cpu_conv_chunks(int64_t n, int64_t want, int64_t per_image, int64_t *nchunks, int64_t *per);

/* How float32 convolutions with a 5x5 kernel, stride 1 and no dilation are
 * computed (cpu_conv.c): AUTO (the default, or PF_CONV unset) by Winograd
 * where both channel counts are at least 8 and the batch holds at least 64
 * tiles of 4x4 outputs (measured to win there), else by im2col; IM2COL (PF_CONV=im2col) always by im2col; WINOGRAD
 * (PF_CONV=winograd) by Winograd wherever the shape allows. Other
 * convolutions always take im2col. Set it outside parallel regions. */
typedef enum pf_cpu_conv_algorithm {
    PF_CONV_AUTO,
    PF_CONV_IM2COL,
    PF_CONV_WINOGRAD,
} pf_cpu_conv_algorithm;
void pf_cpu_conv_set_algorithm(pf_cpu_conv_algorithm algorithm);
/* Whether a float32 convolution of this geometry takes Winograd now. */
bool pf_cpu_conv_uses_winograd(const pf_conv2d_geom *g);
/* F(4x4, 5x5) Winograd convolution (cpu_conv_winograd.c), for the
 * geometries pf_cpu_conv_uses_winograd accepts under PF_CONV_WINOGRAD. */
bool pf_cpu_conv2d_winograd_f32(const pf_conv2d_geom *g, float *y, const float *x, const float *w, const float *bias);
/* Both gradients at once (dx or dw may be NULL; db may be NULL), sharing
 * the transform of dy. */
bool pf_cpu_conv2d_winograd_backward_f32(const pf_conv2d_geom *g, float *dx, float *dw, float *db, const float *dy,
                                         const float *x, const float *w);
bool pf_cpu_conv2d_winograd_backward_input_f32(const pf_conv2d_geom *g, float *dx, const float *dy, const float *w);
bool pf_cpu_conv2d_winograd_backward_weight_f32(const pf_conv2d_geom *g, float *dw, float *db, const float *dy,
                                                const float *x);
/* The outputs o in [*lo, *hi) of 0 .. count-1 whose input position
 * o*stride + shift lies inside 0 .. size-1 (the others read padding). */
void pf_cpu_conv_inside_range(int64_t shift, int64_t stride, int64_t size, int64_t count, int64_t *lo, int64_t *hi);
/* One plane's im2col rows (col2im: the plane zeroed, then the rows added
 * back) for a stride-1 float32 convolution with AVX-512
 * (cpu_conv_avx512.c): kernel position (i, j) of the plane goes to (comes
 * from) the row at dst0 (src0) + (i*k_w + j) * row_len. Only where
 * pf_cpu_use_avx512(). */
void pf_cpu_im2col_plane_f32_avx512(const pf_conv2d_geom *g, const float *plane, float *dst0, int64_t row_len);
void pf_cpu_col2im_plane_f32_avx512(const pf_conv2d_geom *g, float *plane, const float *src0, int64_t row_len);
bool pf_cpu_max_pool2d(pf_dtype dtype, const pf_pool2d_geom *g, void *y, int64_t *indices, const void *x);
bool pf_cpu_max_pool2d_backward(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy,
                                const int64_t *indices);
/* Float32 max pooling of `planes` whole planes with AVX-512
 * (cpu_pool_avx512.c), on the calling thread; only where
 * pf_cpu_use_avx512() and the geometry fits (no padding). */
bool pf_cpu_max_pool2d_f32_avx512_fits(const pf_pool2d_geom *g);
void pf_cpu_max_pool2d_f32_avx512(const pf_pool2d_geom *g, int64_t planes, float *y, int64_t *indices,
                                  const float *x);
bool pf_cpu_avg_pool2d(pf_dtype dtype, const pf_pool2d_geom *g, void *y, const void *x);
bool pf_cpu_avg_pool2d_backward(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy);
bool pf_cpu_adaptive_avg_pool2d(pf_dtype dtype, const pf_pool2d_geom *g, void *y, const void *x);
bool pf_cpu_adaptive_avg_pool2d_backward(pf_dtype dtype, const pf_pool2d_geom *g, void *dx, const void *dy);
bool pf_cpu_batch_norm_stats(pf_dtype dtype, int64_t n, int64_t c, int64_t s, const void *x, void *mean,
                             void *invstd, double eps);
bool pf_cpu_batch_norm_apply(pf_dtype dtype, int64_t n, int64_t c, int64_t s, void *y, const void *x,
                             const void *mean, const void *invstd, const void *weight, const void *bias);
bool pf_cpu_batch_norm_backward(pf_dtype dtype, int64_t n, int64_t c, int64_t s, void *dx, void *dweight,
                                void *dbias, const void *dy, const void *x, const void *mean, const void *invstd,
                                const void *weight, bool training);
bool pf_cpu_cross_entropy(pf_dtype dtype, int64_t n, int64_t c, const void *logits, const int64_t *target,
                          void *losses, void *prob);
bool pf_cpu_cross_entropy_backward(pf_dtype dtype, int64_t n, int64_t c, void *dlogits, const void *prob,
                                   const int64_t *target, const void *dloss);
bool pf_cpu_sgd_step(pf_dtype dtype, int64_t n, void *param, const void *grad, void *momentum_buffer,
                     const pf_sgd_step_args *args);
bool pf_cpu_adam_step(pf_dtype dtype, int64_t n, void *param, const void *grad, void *exp_avg, void *exp_avg_sq,
                      const pf_adam_step_args *args);

/* Scratch memory of the calling OpenMP thread (cpu_scratch.c): buffer
 * `slot`, at least `bytes` long, 64-byte aligned, kept between calls and
 * grown when needed; its contents do not survive the next call with the
 * same slot. Take it at the level of the parallel loop whose thread uses it.
 * NULL with an error when out of memory. Slots 0..3 belong to the
 * convolution kernels, 4 and 5 to the AVX-512 sgemm (which they call), 6 to
 * the output of a convolution followed by max pooling. */
#define PF_CPU_SCRATCH_SLOTS 7
void *pf_cpu_scratch(int slot, size_t bytes);
/* Bytes held by all scratch buffers. */
size_t pf_cpu_scratch_bytes(void);

/* Which kernel pf_cpu_gemm uses for float32 products (cpu_gemm.c): AUTO
 * (the default, or PF_GEMM unset) takes the AVX-512 kernel where the CPU has
 * it and it is measured to win, else OpenBLAS; the others force one (AVX512
 * falls back to OpenBLAS on a CPU without AVX-512). For tests and benchmarks;
 * set it outside parallel regions. */
typedef enum pf_cpu_gemm_kernel {
    PF_GEMM_AUTO,
    PF_GEMM_OPENBLAS,
    PF_GEMM_AVX512,
} pf_cpu_gemm_kernel;
void pf_cpu_gemm_set_kernel(pf_cpu_gemm_kernel kernel);
pf_cpu_gemm_kernel pf_cpu_gemm_get_kernel(void);

/* Whether this CPU has the AVX-512 subsets (F, VL, BW, DQ) and FMA that the
 * cpu_*_avx512.c kernels are compiled for (cpu_simd.c). */
bool pf_cpu_avx512_supported(void);

/* Whether the kernels other than the matrix product take their AVX-512
 * versions (cpu_simd.c): AUTO (the default, or PF_SIMD unset) where the CPU
 * has AVX-512; PORTABLE (or PF_SIMD=portable) never. For tests and
 * debugging; set it outside parallel regions. */
typedef enum pf_cpu_simd {
    PF_SIMD_AUTO,
    PF_SIMD_PORTABLE,
} pf_cpu_simd;
void pf_cpu_simd_set(pf_cpu_simd choice);
pf_cpu_simd pf_cpu_simd_get(void);
bool pf_cpu_use_avx512(void);

/* Single-precision C = alpha * op(A) @ op(B) + beta * C (+ row_bias[i] on
 * row i where row_bias is not NULL), row-major, as cblas_sgemm (beta == 0:
 * C not read), on the calling thread, with AVX-512 (cpu_sgemm_avx512.c;
 * scratch slots 4 and 5). Call it only where pf_cpu_avx512_supported().
 * False with an error when out of memory. */
bool pf_cpu_sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                         int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                         const float *row_bias);

/* c[j] = alpha * (row j of B) . x + beta * c[j] for j < n (beta == 0: c not
 * read), rows of k floats ldb apart, x contiguous, on the calling thread,
 * with AVX-512 (cpu_sgemv_avx512.c). Each c[j] is summed in an order fixed
 * by k alone. Call it only where pf_cpu_avx512_supported(). */
void pf_cpu_sgemv_avx512(int64_t n, int64_t k, float alpha, const float *b, int64_t ldb, const float *x,
                         float beta, float *c);

/* The thread count of the CPU kernels (cpu_threads.c); BLAS itself always runs
 * on one thread, called from the kernels' own OpenMP threads. */
int pf_cpu_threads(void);

#endif
