/*
 * pca.c — principal component analysis: the closed form of the linear
 * autoencoder (the lecture's slide "Auto-encodeurs": "deux modèles
 * linéaires, auquel cas la solution est celle du PCA").
 *
 * Fit, on the rows x_1 .. x_N of an [N, D] tensor:
 *   m = (1/N) Σ x_n                                  (double, pass 1)
 *   S = 1/(N-1) Σ (x_n - m)(x_n - m)ᵀ                 (double, pass 2: dsyrk
 *                                                      over chunks of rows)
 *   S = V Λ Vᵀ                                       (LAPACKE_dsyevd)
 * The components are the eigenvectors of the d largest eigenvalues, by
 * decreasing eigenvalue, each with its sign fixed (largest-magnitude
 * coordinate positive, the first on a tie) so that a fit does not depend on
 * what LAPACK happened to return. Encoding and decoding are ops (pf_linear,
 * pf_matmul, pf_sub, pf_add), so they work on any batch and on either float
 * dtype.
 *
 * Pass 2 splits the chunks of rows among a fixed number of accumulators
 * (chunk i into accumulator i mod A, A from D alone), which OpenMP threads
 * fill side by side and which are then added in order: the result does not
 * depend on the thread count.
 */
#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "tensor/tensor_internal.h"

/* Largest D accepted: the covariance is D × D doubles (2 GiB here). */
#define PCA_MAX_DIM 16384
/* Bytes of one chunk of rows converted to double. */
#define PCA_CHUNK_BYTES (1 << 21)
/* Accumulators of the covariance when D is at most PCA_SPLIT_MAX_DIM. */
#define PCA_ACCUMULATORS 4
#define PCA_SPLIT_MAX_DIM 2048

struct pf_pca {
    int64_t dim;              /* D */
    int64_t latent;           /* d */
    pf_tensor *mean;          /* [D] float32 */
    pf_tensor *components;    /* [d, D] float32 */
    pf_tensor *mean64;        /* [D] float64 */
    pf_tensor *components64;  /* [d, D] float64 */
    pf_tensor *variances;     /* [D] float64, decreasing */
};

/* Rows r0 .. r0+m-1 of x (viewed as [N, D]) as doubles into out, row-major. */
static bool rows_to_f64(pf_ctx *scratch, const pf_tensor *x, int64_t r0, int64_t m, double *out)
{
    int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    memcpy(stride, x->stride, sizeof stride);
    shape[0] = m;
    pf_tensor *v = pf_view_of(scratch, x, x->ndim, shape, stride, x->offset + r0 * x->stride[0]);
    return v && pf_copy_to_f64(v, out);
}

/* Fixes the sign of a vector: its largest-magnitude coordinate (the first
 * one on a tie) becomes positive. */
static void fix_sign(double *v, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (fabs(v[i]) > fabs(v[best]))
            best = i;
    if (v[best] < 0)
        for (int64_t i = 0; i < n; i++)
            v[i] = -v[i];
}

pf_pca *pf_pca_fit(pf_ctx *ctx, const pf_tensor *x, int64_t d)
{
    static const char *fn = "pf_pca_fit";
    if (!x)
        return pf_ok() ? pf_fail("%s: NULL input", fn) : NULL;
    if (!ctx)
        return pf_fail("%s: NULL context", fn);
    char sbuf[128];
    pf_shape_str(x, sbuf, sizeof sbuf);
    if (!pf_is_float(x->dtype))
        return pf_fail("%s: x %s is %s, expected float32 or float64", fn, sbuf, pf_dtype_name(x->dtype));
    if (x->device != PF_CPU)
        return pf_fail("%s: x %s is not on the CPU", fn, sbuf);
    if (x->ndim < 2)
        return pf_fail("%s: x %s must be [N, D] (or [N, ...]), one example per row", fn, sbuf);
    const int64_t n = x->shape[0];
    if (n < 2)
        return pf_fail("%s: x %s has %lld example%s; a covariance needs at least 2", fn, sbuf, (long long)n,
                       n == 1 ? "" : "s");
    const int64_t dim = pf_numel(x) / n;
    if (dim < 1)
        return pf_fail("%s: x %s has no values per example", fn, sbuf);
    if (dim > PCA_MAX_DIM)
        return pf_fail("%s: x %s has %lld values per example; at most %d (the covariance is D x D doubles)", fn,
                       sbuf, (long long)dim, PCA_MAX_DIM);
    if (d < 1 || d > dim)
        return pf_fail("%s: %lld components asked of x %s; between 1 and D = %lld", fn, (long long)d, sbuf,
                       (long long)dim);

    pf_ctx *scratch = pf_ctx_new(0);
    const size_t dd = (size_t)dim * (size_t)dim;
    int64_t chunk = PCA_CHUNK_BYTES / ((int64_t)sizeof(double) * dim);
    chunk = chunk < 1 ? 1 : chunk > n ? n : chunk;
    const int64_t n_chunks = (n + chunk - 1) / chunk;
    const int acc = dim <= PCA_SPLIT_MAX_DIM ? PCA_ACCUMULATORS : 1;
    double *cov = scratch ? pf_ctx_alloc_zeroed(scratch, dd * sizeof(double) * (size_t)acc) : NULL;
    double *mean = scratch ? pf_ctx_alloc_zeroed(scratch, (size_t)dim * sizeof(double)) : NULL;
    double *eig = scratch ? pf_ctx_alloc(scratch, (size_t)dim * sizeof(double)) : NULL;
    double *rows = scratch ? pf_ctx_alloc(scratch, (size_t)(chunk * dim) * sizeof(double) * (size_t)acc) : NULL;
    pf_pca *p = NULL;
    if (!cov || !mean || !eig || !rows) {
        pf_fail("%s: out of memory for the %lld x %lld covariance", fn, (long long)dim, (long long)dim);
        goto done;
    }

    /* Pass 1: the mean, in double. */
    for (int64_t r0 = 0; r0 < n; r0 += chunk) {
        int64_t m = r0 + chunk <= n ? chunk : n - r0;
        if (!rows_to_f64(scratch, x, r0, m, rows))
            goto done;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < dim; j++)
                mean[j] += rows[i * dim + j];
    }
    for (int64_t j = 0; j < dim; j++) {
        mean[j] /= (double)n;
        if (!isfinite(mean[j])) {
            pf_fail("%s: x %s has non-finite values (NaN or infinity) in column %lld", fn, sbuf, (long long)j);
            goto done;
        }
    }

    /* Pass 2: Σ (x_n - m)(x_n - m)ᵀ, upper triangle, chunk c into
     * accumulator c mod acc. The views are made before the parallel part
     * (contexts are not shared between threads). */
    pf_tensor **views = pf_ctx_alloc(scratch, sizeof(pf_tensor *) * (size_t)n_chunks);
    if (!views) {
        pf_fail("%s: out of memory", fn);
        goto done;
    }
    for (int64_t c = 0; c < n_chunks; c++) {
        int64_t shape[PF_MAX_DIMS], stride[PF_MAX_DIMS];
        memcpy(shape, x->shape, sizeof shape);
        memcpy(stride, x->stride, sizeof stride);
        shape[0] = c * chunk + chunk <= n ? chunk : n - c * chunk;
        views[c] = pf_view_of(scratch, x, x->ndim, shape, stride, x->offset + c * chunk * x->stride[0]);
        if (!views[c])
            goto done;
    }
    int failed = 0;
#pragma omp parallel for schedule(static, 1) num_threads(acc < pf_get_num_threads() ? acc : pf_get_num_threads()) reduction(+ : failed)
    for (int a = 0; a < acc; a++) {
        double *buf = rows + (size_t)a * (size_t)(chunk * dim), *sum = cov + (size_t)a * dd;
        for (int64_t c = a; c < n_chunks; c += acc) {
            const int64_t m = views[c]->shape[0];
            if (!pf_copy_to_f64(views[c], buf)) {
                failed++;
                break;
            }
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < dim; j++)
                    buf[i * dim + j] -= mean[j];
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)dim, (int)m, 1.0, buf, (int)dim, 1.0, sum,
                        (int)dim);
        }
    }
    if (failed) {
        if (pf_ok()) /* the worker's own message stayed in its thread */
            pf_fail("%s: cannot read the rows of x %s", fn, sbuf);
        goto done;
    }
    for (int a = 1; a < acc; a++)
        for (size_t k = 0; k < dd; k++)
            cov[k] += cov[(size_t)a * dd + k];
    /* Divide by N - 1 and fill the lower triangle (row-major). */
    for (int64_t i = 0; i < dim; i++)
        for (int64_t j = i; j < dim; j++) {
            double v = cov[i * dim + j] / (double)(n - 1);
            if (!isfinite(v)) {
                pf_fail("%s: the covariance of x %s overflows", fn, sbuf);
                goto done;
            }
            cov[i * dim + j] = cov[j * dim + i] = v;
        }

    /* S = V Λ Vᵀ: eigenvalues ascending; in column-major order, eigenvector
     * k is the contiguous run cov[k*D .. k*D + D). */
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)dim, cov, (lapack_int)dim, eig);
    if (info != 0) {
        if (info < 0)
            pf_fail("%s: LAPACKE_dsyevd rejected argument %d (or ran out of memory)", fn, (int)-info);
        else
            pf_fail("%s: LAPACKE_dsyevd did not converge (%d off-diagonal elements)", fn, (int)info);
        goto done;
    }

    p = pf_ctx_alloc_zeroed(ctx, sizeof *p);
    pf_tensor *mean64 = pf_from_f64(ctx, mean, PF_DIMS(dim));
    pf_tensor *comp64 = pf_empty(ctx, PF_F64, PF_DIMS(d, dim));
    pf_tensor *var = pf_empty(ctx, PF_F64, PF_DIMS(dim));
    double *cd = comp64 ? pf_data_f64(comp64) : NULL, *vd = var ? pf_data_f64(var) : NULL;
    if (!p || !cd || !vd || !mean64) {
        p = NULL;
        if (pf_ok())
            pf_fail("%s: out of memory", fn);
        goto done;
    }
    for (int64_t k = 0; k < dim; k++)
        vd[k] = eig[dim - 1 - k] > 0 ? eig[dim - 1 - k] : 0; /* rounding may leave -1e-17 */
    for (int64_t k = 0; k < d; k++) {
        double *row = cd + k * dim;
        memcpy(row, cov + (dim - 1 - k) * dim, (size_t)dim * sizeof(double));
        fix_sign(row, dim);
    }
    p->dim = dim;
    p->latent = d;
    p->mean64 = mean64;
    p->components64 = comp64;
    p->variances = var;
    p->mean = pf_to_dtype(ctx, mean64, PF_F32);
    p->components = pf_to_dtype(ctx, comp64, PF_F32);
    if (!p->mean || !p->components)
        p = NULL;
done:
    pf_ctx_free(scratch);
    return p;
}

pf_pca *pf_pca_head(pf_ctx *ctx, const pf_pca *p, int64_t d)
{
    if (!p)
        return pf_ok() ? pf_fail("pf_pca_head: NULL PCA") : NULL;
    if (!ctx)
        return pf_fail("pf_pca_head: NULL context");
    if (d < 1 || d > p->latent)
        return pf_fail("pf_pca_head: %lld components asked of a PCA that has %lld", (long long)d,
                       (long long)p->latent);
    pf_pca *h = pf_ctx_alloc(ctx, sizeof *h);
    if (!h)
        return pf_fail("pf_pca_head: out of memory");
    *h = *p;
    h->latent = d;
    h->components = pf_view_of(ctx, p->components, 2, (const int64_t[]){d, p->dim}, p->components->stride,
                               p->components->offset);
    h->components64 = pf_view_of(ctx, p->components64, 2, (const int64_t[]){d, p->dim}, p->components64->stride,
                                 p->components64->offset);
    return h->components && h->components64 ? h : NULL;
}

/* x as [N, D] (its examples flattened), or NULL with an error naming fn. */
static pf_tensor *as_rows(const char *fn, pf_ctx *ctx, pf_tensor *x, int64_t dim, const char *what)
{
    char sbuf[128];
    pf_shape_str(x, sbuf, sizeof sbuf);
    if (!pf_is_float(x->dtype))
        return pf_fail("%s: %s %s is %s, expected float32 or float64", fn, what, sbuf, pf_dtype_name(x->dtype));
    if (x->ndim < 2)
        return pf_fail("%s: %s %s must be [N, %lld], one example per row", fn, what, sbuf, (long long)dim);
    const int64_t n = x->shape[0];
    if ((n > 0 ? pf_numel(x) / n : pf_shape_numel(x->ndim - 1, x->shape + 1)) != dim)
        return pf_fail("%s: %s %s does not have %lld values per example", fn, what, sbuf, (long long)dim);
    return x->ndim == 2 ? x : pf_reshape(ctx, x, PF_DIMS(n, dim));
}

pf_tensor *pf_pca_encode(pf_ctx *ctx, const pf_pca *p, pf_tensor *x)
{
    if (!p || !x)
        return pf_ok() ? pf_fail("pf_pca_encode: NULL %s", p ? "input" : "PCA") : NULL;
    pf_tensor *rows = as_rows("pf_pca_encode", ctx, x, p->dim, "x");
    if (!rows)
        return NULL;
    bool f64 = x->dtype == PF_F64;
    return pf_linear(ctx, pf_sub(ctx, rows, f64 ? p->mean64 : p->mean), f64 ? p->components64 : p->components, NULL);
}

pf_tensor *pf_pca_decode(pf_ctx *ctx, const pf_pca *p, pf_tensor *z)
{
    if (!p || !z)
        return pf_ok() ? pf_fail("pf_pca_decode: NULL %s", p ? "input" : "PCA") : NULL;
    pf_tensor *rows = as_rows("pf_pca_decode", ctx, z, p->latent, "z");
    if (!rows)
        return NULL;
    bool f64 = z->dtype == PF_F64;
    return pf_add(ctx, pf_matmul(ctx, rows, f64 ? p->components64 : p->components), f64 ? p->mean64 : p->mean);
}

const pf_tensor *pf_pca_mean(const pf_pca *p) { return p ? p->mean : NULL; }
const pf_tensor *pf_pca_components(const pf_pca *p) { return p ? p->components : NULL; }
const pf_tensor *pf_pca_variances(const pf_pca *p) { return p ? p->variances : NULL; }
int64_t pf_pca_dim(const pf_pca *p) { return p ? p->dim : 0; }
int64_t pf_pca_latent(const pf_pca *p) { return p ? p->latent : 0; }
