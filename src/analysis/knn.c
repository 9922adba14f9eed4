/*
 * knn.c — exact nearest neighbours of the rows of a matrix (for t-SNE's
 * input affinities), and the leave-one-out 1-nearest-neighbour accuracy of
 * labelled points (pf_knn_accuracy).
 *
 * The search is brute force, which BLAS makes fast at the sizes t-SNE
 * meets (5,000 rows of 784 values: 0.4 Gflop of products): blocks of rows
 * are multiplied by all rows (cblas_sgemm, one block per OpenMP thread at a
 * time, OpenBLAS itself single-threaded), the squared distances
 * |a|² + |b|² - 2 a·b read off in float, and a max-heap keeps each row's
 * k + KNN_MARGIN best candidates. Float rounding may misorder candidates
 * whose distances differ by about 1e-7 of the squared norms, so each
 * candidate's distance is then recomputed exactly (in double, from the
 * float values, in a fixed order) and the k best kept, ties going to the
 * smaller index. Each row's result depends on nothing but the data: not on
 * the thread count nor on how the rows were blocked. A vantage-point tree
 * would save work in low dimension but, at hundreds of dimensions, prunes
 * almost nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <omp.h>

#include "analysis/tsne_internal.h"
#include "tensor/tensor_internal.h"

#define KNN_MARGIN 8
/* Floats of one thread's block of distances. */
#define KNN_BLOCK_FLOATS (1 << 20)

typedef struct candidate {
    double d;
    int32_t j;
} candidate;

static bool worse(candidate a, candidate b) { return a.d > b.d || (a.d == b.d && a.j > b.j); }

/* Max-heap (the worst candidate on top) of at most cap entries. */
static void heap_offer(candidate *h, int *size, int cap, candidate c)
{
    int i;
    if (*size < cap) {
        i = (*size)++;
        while (i > 0 && worse(c, h[(i - 1) / 2])) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = c;
        return;
    }
    if (!worse(h[0], c))
        return;
    i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        candidate top = c;
        if (l < cap && worse(h[l], top)) {
            m = l;
            top = h[l];
        }
        if (r < cap && worse(h[r], top))
            m = r;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = c;
}

static int compare_candidates(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return worse(*x, *y) ? 1 : worse(*y, *x) ? -1 : 0;
}

bool pf_knn_search(const char *op, const float *x, int64_t n, int64_t d, int k, int32_t *index, double *dist2)
{
    if (k < 1 || k > n - 1) {
        pf_fail("%s: %d neighbours asked of %lld points", op, k, (long long)n);
        return false;
    }
    if (n > INT32_MAX || d > INT32_MAX) {
        pf_fail("%s: %lld points of %lld values: BLAS takes at most 2^31 - 1 of each", op, (long long)n,
                (long long)d);
        return false;
    }
    const int cap = (int)(k + KNN_MARGIN < n - 1 ? k + KNN_MARGIN : n - 1);
    int64_t block = KNN_BLOCK_FLOATS / n;
    block = block < 1 ? 1 : block > 512 ? 512 : block;
    if (block > n)
        block = n;
    const int64_t n_blocks = (n + block - 1) / block;
    const int threads = pf_get_num_threads() > 0 ? pf_get_num_threads() : 1;

    float *norm = malloc(sizeof *norm * (size_t)n);
    float *gram = malloc(sizeof *gram * (size_t)(block * n) * (size_t)threads);
    candidate *heap = malloc(sizeof *heap * (size_t)cap * (size_t)threads);
    bool ok = norm && gram && heap;
    if (!ok) {
        pf_fail("%s: out of memory for the neighbour search of %lld points", op, (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t t = 0; t < d; t++)
            s += (double)x[i * d + t] * x[i * d + t];
        norm[i] = (float)s;
    }

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t b = 0; b < n_blocks; b++) {
        const int me = omp_get_thread_num();
        float *g = gram + (size_t)me * (size_t)(block * n);
        candidate *h = heap + (size_t)me * (size_t)cap;
        const int64_t r0 = b * block, rows = n - r0 < block ? n - r0 : block;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)n, (int)d, 1.0f, x + r0 * d, (int)d,
                    x, (int)d, 0.0f, g, (int)n);
        for (int64_t r = 0; r < rows; r++) {
            const int64_t i = r0 + r;
            const float *gr = g + r * n;
            int size = 0;
            for (int64_t j = 0; j < n; j++)
                if (j != i)
                    heap_offer(h, &size, cap, (candidate){(double)(norm[i] + norm[j] - 2 * gr[j]), (int32_t)j});
            /* Exact distances of the candidates, then the k best. */
            for (int c = 0; c < size; c++) {
                const float *a = x + i * d, *e = x + (int64_t)h[c].j * d;
                double s = 0;
                for (int64_t t = 0; t < d; t++) {
                    double u = (double)a[t] - (double)e[t];
                    s += u * u;
                }
                h[c].d = s;
            }
            qsort(h, (size_t)size, sizeof *h, compare_candidates);
            for (int c = 0; c < k; c++) {
                index[i * k + c] = h[c].j;
                dist2[i * k + c] = h[c].d;
            }
        }
    }
done:
    free(norm);
    free(gram);
    free(heap);
    return ok;
}

double pf_knn_accuracy(const pf_tensor *points, const pf_tensor *labels)
{
    static const char *fn = "pf_knn_accuracy";
    if (!points || !labels) {
        if (pf_ok())
            pf_fail("%s: NULL tensor argument", fn);
        return NAN;
    }
    char s1[128], s2[128];
    if (!pf_is_float(points->dtype) || points->ndim < 1 || points->device != PF_CPU) {
        pf_fail("%s: points %s %s: expected a float tensor [N, D] on the CPU", fn,
                pf_shape_str(points, s1, sizeof s1), pf_dtype_name(points->dtype));
        return NAN;
    }
    const int64_t n = points->shape[0];
    if (labels->dtype != PF_I64 || labels->ndim != 1 || labels->shape[0] != n || labels->device != PF_CPU) {
        pf_fail("%s: labels %s %s: expected int64 [%lld] (one per point of %s)", fn,
                pf_shape_str(labels, s2, sizeof s2), pf_dtype_name(labels->dtype), (long long)n,
                pf_shape_str(points, s1, sizeof s1));
        return NAN;
    }
    if (n < 2 || n > TSNE_MAX_POINTS) {
        pf_fail("%s: %lld points: needs 2 to %d", fn, (long long)n, TSNE_MAX_POINTS);
        return NAN;
    }
    const int64_t total = pf_numel(points), d = total / n;
    if (d < 1) {
        pf_fail("%s: points %s have no coordinates", fn, pf_shape_str(points, s1, sizeof s1));
        return NAN;
    }
    float *x = malloc(sizeof *x * (size_t)total);
    int64_t *y = malloc(sizeof *y * (size_t)n);
    int32_t *nearest = malloc(sizeof *nearest * (size_t)n);
    double *dist = malloc(sizeof *dist * (size_t)n);
    double accuracy = NAN;
    if (!x || !y || !nearest || !dist) {
        pf_fail("%s: out of memory for %lld points", fn, (long long)n);
        goto done;
    }
    double *column = calloc((size_t)d, sizeof *column);
    if (!column || !pf_copy_to_f32(points, x)) {
        free(column);
        if (pf_ok())
            pf_fail("%s: out of memory for %lld points", fn, (long long)n);
        goto done;
    }
    /* Centred (in double) for the float distances' accuracy; distances do
     * not change. */
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < d; t++)
            column[t] += x[i * d + t];
    bool finite = true;
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < d; t++) {
            finite = finite && isfinite(x[i * d + t]);
            x[i * d + t] = (float)(x[i * d + t] - column[t] / (double)n);
        }
    free(column);
    if (!finite) {
        pf_fail("%s: the points have a non-finite value", fn);
        goto done;
    }
    if (!pf_copy_to_f64(labels, dist))
        goto done;
    for (int64_t i = 0; i < n; i++)
        y[i] = (int64_t)dist[i];
    if (!pf_knn_search(fn, x, n, d, 1, nearest, dist))
        goto done;
    int64_t right = 0;
    for (int64_t i = 0; i < n; i++)
        right += y[nearest[i]] == y[i];
    accuracy = (double)right / (double)n;
done:
    free(x);
    free(y);
    free(nearest);
    free(dist);
    return accuracy;
}
