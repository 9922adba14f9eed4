/*
 * tsne.c — Barnes-Hut t-SNE (L. van der Maaten, "Accelerating t-SNE using
 * tree-based algorithms", JMLR 15, 2014), following his reference
 * implementation (bhtsne) step by step:
 *
 * 1. Input affinities. The rows are centred and divided by their largest
 *    absolute value. Each point's k = floor(3 perplexity) nearest
 *    neighbours (knn.c, exact) get p_{j|i} ∝ exp(-beta_i d²_ij), with beta_i
 *    found by bisection so that the row's entropy is log(perplexity); the
 *    others get 0. P = (p_{j|i} + p_{i|j}) / 2N, sparse, symmetric.
 * 2. The embedding y, N × 2, starts as N(0, 1e-4²) draws of a pf_rng.
 * 3. Gradient descent on KL(P || Q), q_ij ∝ 1 / (1 + |y_i - y_j|²): the
 *    gradient (without the constant 4, as the reference) is
 *      Σ_j P_ij q_ij (y_i - y_j)  -  Σ_j q_ij² (y_i - y_j) / Z,
 *    the first over P's entries, the second by the quadtree (tsne_tree.c).
 *    The step is the reference's: gains (delta-bar-delta: +0.2 where the
 *    gradient's sign differs from the last step's, x0.8 elsewhere, at least
 *    0.01), momentum 0.5 then 0.8, P multiplied by 12 (early exaggeration)
 *    over the first 250 iterations, y re-centred after every step.
 *
 * Threads (OpenMP) share the points in every per-point loop; each point's
 * sums run in a fixed order on one thread, and sums over points (Z, the
 * mean, the divergence) are taken in point order afterwards, so the result
 * does not depend on the number of threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne_internal.h"
#include "tensor/tensor_internal.h"

#define ENTROPY_TOL 1e-5
#define BISECTION_STEPS 200
#define MOMENTUM_START 0.5
#define MOMENTUM_FINAL 0.8
#define EXAGGERATION 12.0
#define EXAGGERATION_ITERATIONS 250
#define MIN_GAIN 0.01
/* Fewer points run on one thread: a parallel loop's barrier would cost more. */
#define PARALLEL_MIN_POINTS 1024

void tsne_sparse_free(tsne_sparse *p)
{
    free(p->row);
    free(p->col);
    free(p->val);
    memset(p, 0, sizeof *p);
}

/* ---- 1. input affinities --------------------------------------------------- */

void tsne_conditional(const double *dist2, int64_t n, int k, double perplexity, double *p, double *beta_out)
{
    const double target = log(perplexity);
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN_POINTS)
    for (int64_t i = 0; i < n; i++) {
        const double *d = dist2 + i * k;
        double *pi = p + i * k;
        /* Distances from the nearest one: the same p, no underflow. */
        double d0 = d[0];
        for (int j = 1; j < k; j++)
            d0 = fmin(d0, d[j]);
        double beta = 1, lo = 0, hi = INFINITY, sum = 0;
        for (int step = 0; step < BISECTION_STEPS; step++) {
            double weighted = 0;
            sum = 0;
            for (int j = 0; j < k; j++) {
                pi[j] = exp(-beta * (d[j] - d0));
                sum += pi[j];
                weighted += pi[j] * (d[j] - d0);
            }
            /* H = -Σ p log p with p = e^(-beta D) / sum. */
            const double entropy = beta * weighted / sum + log(sum);
            if (fabs(entropy - target) < ENTROPY_TOL)
                break;
            if (entropy > target) { /* too flat: sharpen */
                lo = beta;
                beta = isinf(hi) ? beta * 2 : (beta + hi) / 2;
            } else {
                hi = beta;
                beta = (beta + lo) / 2;
            }
        }
        for (int j = 0; j < k; j++)
            pi[j] /= sum;
        if (beta_out)
            beta_out[i] = beta;
    }
}

bool tsne_symmetrise(const int32_t *index, const double *p, int64_t n, int k, tsne_sparse *out)
{
    memset(out, 0, sizeof *out);
    const int64_t nk = n * k;
    /* The transpose of the neighbour lists: who has i as a neighbour, in
     * increasing order (filled by increasing source). */
    int64_t *trow = calloc((size_t)n + 1, sizeof *trow);
    int32_t *tcol = malloc(sizeof *tcol * (size_t)nk);
    double *tval = malloc(sizeof *tval * (size_t)nk);
    int64_t *fill = malloc(sizeof *fill * (size_t)n);
    /* Each row's own neighbours sorted by index. */
    int32_t *order = malloc(sizeof *order * (size_t)nk);
    out->row = calloc((size_t)n + 1, sizeof *out->row);
    bool ok = trow && tcol && tval && fill && order && out->row;
    if (ok) {
        for (int64_t e = 0; e < nk; e++)
            trow[index[e] + 1]++;
        for (int64_t i = 0; i < n; i++)
            trow[i + 1] += trow[i];
        memcpy(fill, trow, sizeof *fill * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < k; c++) {
                int64_t at = fill[index[i * k + c]]++;
                tcol[at] = (int32_t)i;
                tval[at] = p[i * k + c];
            }
        /* Sort each row's neighbour slots by neighbour index (insertion
         * sort: rows are short), then count the merged entries. */
        for (int64_t i = 0; i < n; i++) {
            int32_t *o = order + i * k;
            for (int c = 0; c < k; c++) {
                int32_t v = c;
                int b = c;
                while (b > 0 && index[i * k + o[b - 1]] > index[i * k + v]) {
                    o[b] = o[b - 1];
                    b--;
                }
                o[b] = v;
            }
        }
    }
    /* Two passes of the same merge: count, then fill. */
    for (int pass = 0; ok && pass < 2; pass++) {
        if (pass == 1) {
            for (int64_t i = 0; i < n; i++)
                out->row[i + 1] += out->row[i];
            out->col = malloc(sizeof *out->col * (size_t)out->row[n]);
            out->val = malloc(sizeof *out->val * (size_t)out->row[n]);
            if (!out->col || !out->val) {
                ok = false;
                break;
            }
        }
        for (int64_t i = 0; i < n; i++) {
            const int32_t *o = order + i * k;
            int a = 0;
            int64_t b = trow[i], b_end = trow[i + 1], w = pass ? out->row[i] : 0;
            while (a < k || b < b_end) {
                int32_t ja = a < k ? index[i * k + o[a]] : INT32_MAX, jb = b < b_end ? tcol[b] : INT32_MAX;
                int32_t j = ja < jb ? ja : jb;
                double v = 0;
                if (ja == j)
                    v += p[i * k + o[a++]];
                if (jb == j)
                    v += tval[b++];
                if (pass) {
                    out->col[w] = j;
                    out->val[w] = v;
                }
                w++;
            }
            if (!pass)
                out->row[i + 1] = w;
        }
    }
    if (ok) {
        double total = 0;
        for (int64_t e = 0; e < out->row[n]; e++)
            total += out->val[e];
        for (int64_t e = 0; e < out->row[n]; e++)
            out->val[e] /= total;
        out->n = n;
    } else {
        tsne_sparse_free(out);
        pf_fail("pf_tsne: out of memory for the affinities of %lld points", (long long)n);
    }
    free(trow);
    free(tcol);
    free(tval);
    free(fill);
    free(order);
    return ok;
}

bool tsne_affinities(const float *x, int64_t n, int64_t d, double perplexity, tsne_sparse *out)
{
    memset(out, 0, sizeof *out);
    int k = (int)floor(3 * perplexity);
    if (k > n - 1)
        k = (int)(n - 1);
    if (k < 1)
        k = 1;
    float *xs = malloc(sizeof *xs * (size_t)(n * d));
    double *mean = calloc((size_t)d, sizeof *mean);
    int32_t *index = malloc(sizeof *index * (size_t)(n * k));
    double *dist2 = malloc(sizeof *dist2 * (size_t)(n * k));
    double *p = malloc(sizeof *p * (size_t)(n * k));
    bool ok = xs && mean && index && dist2 && p;
    if (!ok)
        pf_fail("pf_tsne: out of memory for %lld points of %lld values", (long long)n, (long long)d);
    if (ok) {
        /* Centred, then scaled into [-1, 1] (the reference's normalisation;
         * the affinities do not depend on it, the float distances do). */
        for (int64_t i = 0; i < n; i++)
            for (int64_t t = 0; t < d; t++)
                mean[t] += x[i * d + t];
        double top = 0;
        for (int64_t t = 0; t < d; t++)
            mean[t] /= (double)n;
        for (int64_t i = 0; i < n; i++)
            for (int64_t t = 0; t < d; t++)
                top = fmax(top, fabs(x[i * d + t] - mean[t]));
        const double scale = top > 0 ? 1 / top : 1;
        for (int64_t i = 0; i < n; i++)
            for (int64_t t = 0; t < d; t++)
                xs[i * d + t] = (float)((x[i * d + t] - mean[t]) * scale);
        ok = pf_knn_search("pf_tsne", xs, n, d, k, index, dist2);
    }
    if (ok) {
        tsne_conditional(dist2, n, k, perplexity, p, NULL);
        ok = tsne_symmetrise(index, p, n, k, out);
    }
    free(xs);
    free(mean);
    free(index);
    free(dist2);
    free(p);
    return ok;
}

/* ---- 3. gradient descent ----------------------------------------------------- */

/* The forces at y: for each point i, the attraction Σ_j P_ij q_ij (y_i - y_j)
 * into attract[2i..2i+1] (P as it is, not exaggerated), the repulsion
 * Σ_j q_ij² (y_i - y_j) into repel and Σ_j q_ij into row_q (the tree's
 * estimates). One parallel loop over the points: the only barrier of an
 * iteration. */
static void forces(const tsne_sparse *p, const tsne_tree *tree, const double *y, double theta, double *attract,
                   double *repel, double *row_q)
{
    const int64_t n = p->n;
#pragma omp parallel for schedule(dynamic, 64) if (n >= PARALLEL_MIN_POINTS)
    for (int64_t i = 0; i < n; i++) {
        double ax = 0, ay = 0;
        const double yx = y[2 * i], yy = y[2 * i + 1];
        for (int64_t e = p->row[i]; e < p->row[i + 1]; e++) {
            const int64_t j = p->col[e];
            const double dx = yx - y[2 * j], dy = yy - y[2 * j + 1];
            const double m = p->val[e] / (1 + dx * dx + dy * dy);
            ax += m * dx;
            ay += m * dy;
        }
        attract[2 * i] = ax;
        attract[2 * i + 1] = ay;
        tsne_tree_repulsion(tree, y, i, theta, &repel[2 * i], &repel[2 * i + 1], &row_q[i]);
    }
}

/* KL(P || Q) = Σ P_ij log(P_ij / Q_ij), Q_ij = q_ij / z, over P's entries
 * (the others have P_ij = 0); row_kl is scratch for n values. */
static double divergence(const tsne_sparse *p, const double *y, double z, double *row_kl)
{
    const int64_t n = p->n;
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN_POINTS)
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t e = p->row[i]; e < p->row[i + 1]; e++) {
            const int64_t j = p->col[e];
            const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            const double q = 1 / (1 + dx * dx + dy * dy) / z;
            if (p->val[e] > 0)
                s += p->val[e] * log(p->val[e] / q);
        }
        row_kl[i] = s;
    }
    double total = 0;
    for (int64_t i = 0; i < n; i++)
        total += row_kl[i];
    return total;
}

static double sign(double v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }

double tsne_optimise(const tsne_sparse *p, double *y, int iterations, int exaggeration_iterations,
                     double exaggeration, double theta, double eta, FILE *log)
{
    const int64_t n = p->n;
    double *attract = malloc(sizeof *attract * (size_t)(2 * n));
    double *repel = malloc(sizeof *repel * (size_t)(2 * n));
    double *update = calloc((size_t)(2 * n), sizeof *update);
    double *gains = malloc(sizeof *gains * (size_t)(2 * n));
    double *row_q = malloc(sizeof *row_q * (size_t)n);
    tsne_tree tree = {0};
    double kl = NAN;
    if (!attract || !repel || !update || !gains || !row_q) {
        pf_fail("pf_tsne: out of memory for the embedding of %lld points", (long long)n);
        goto done;
    }
    for (int64_t e = 0; e < 2 * n; e++)
        gains[e] = 1;
    const double start = pf_profile_clock();
    for (int it = 0; it < iterations; it++) {
        const bool early = it < exaggeration_iterations, last = it == iterations - 1;
        const double alpha = early ? exaggeration : 1, momentum = early ? MOMENTUM_START : MOMENTUM_FINAL;
        if (!tsne_tree_build(&tree, y, n)) {
            kl = NAN;
            goto done;
        }
        forces(p, &tree, y, theta, attract, repel, row_q);
        double z = 0;
        for (int64_t i = 0; i < n; i++)
            z += row_q[i];
        if (last || (log && it % 100 == 99)) {
            /* row_q is free again once z is known. */
            kl = divergence(p, y, z, row_q);
            if (log)
                fprintf(log, "pf_tsne: iteration %4d: KL divergence %.4f (%.1f s)\n", it + 1, kl,
                        pf_profile_clock() - start);
        }
        /* The step (on one thread: 2N numbers), then the map re-centred. */
        double mx = 0, my = 0;
        for (int64_t e = 0; e < 2 * n; e++) {
            const double g = alpha * attract[e] - repel[e] / z;
            gains[e] = sign(g) != sign(update[e]) ? gains[e] + 0.2 : gains[e] * 0.8;
            if (gains[e] < MIN_GAIN)
                gains[e] = MIN_GAIN;
            update[e] = momentum * update[e] - eta * gains[e] * g;
            y[e] += update[e];
            if (e & 1)
                my += y[e];
            else
                mx += y[e];
        }
        mx /= (double)n;
        my /= (double)n;
        for (int64_t i = 0; i < n; i++) {
            y[2 * i] -= mx;
            y[2 * i + 1] -= my;
        }
    }
done:
    tsne_tree_free(&tree);
    free(attract);
    free(repel);
    free(update);
    free(gains);
    free(row_q);
    return kl;
}

/* ---- pf_tsne ------------------------------------------------------------------ */

pf_tensor *pf_tsne(pf_ctx *ctx, const pf_tensor *x, const pf_tsne_opts *opts)
{
    static const char *fn = "pf_tsne";
    if (!x)
        return pf_ok() ? pf_fail("%s: NULL input", fn) : NULL;
    if (!ctx)
        return pf_fail("%s: NULL context", fn);
    pf_tsne_opts o = opts ? *opts : (pf_tsne_opts){0};
    char sbuf[128];
    if (!pf_is_float(x->dtype) || x->ndim < 2 || x->device != PF_CPU)
        return pf_fail("%s: input %s %s: expected a float tensor [N, D] (or [N, ...]) on the CPU", fn,
                       pf_shape_str(x, sbuf, sizeof sbuf), pf_dtype_name(x->dtype));
    const int64_t n = x->shape[0], total = pf_numel(x), d = n > 0 ? total / n : 0;
    if (n < 4 || n > TSNE_MAX_POINTS)
        return pf_fail("%s: input %s: needs 4 to %d points (rows)", fn, pf_shape_str(x, sbuf, sizeof sbuf),
                       TSNE_MAX_POINTS);
    if (d < 1)
        return pf_fail("%s: input %s: the points have no coordinates", fn, pf_shape_str(x, sbuf, sizeof sbuf));
    if (o.perplexity == 0)
        o.perplexity = 30;
    if (o.iterations == 0)
        o.iterations = 1000;
    if (o.theta == 0)
        o.theta = 0.5;
    if (!(o.perplexity >= 1) || !isfinite(o.perplexity))
        return pf_fail("%s: perplexity %g: must be at least 1", fn, o.perplexity);
    if (3 * o.perplexity > (double)(n - 1))
        return pf_fail("%s: perplexity %g is too large for %lld points (3 x perplexity must be at most N - 1 = "
                       "%lld)", fn, o.perplexity, (long long)n, (long long)(n - 1));
    if (o.iterations < 0)
        return pf_fail("%s: %d iterations", fn, o.iterations);
    if (!(o.theta >= 0) || !isfinite(o.theta))
        return pf_fail("%s: theta %g: must be positive (0 means 0.5)", fn, o.theta);
    if (!(o.learning_rate >= 0) || !isfinite(o.learning_rate))
        return pf_fail("%s: learning rate %g: must be positive (0 means automatic)", fn, o.learning_rate);
    const double eta = o.learning_rate > 0 ? o.learning_rate : fmax(200, (double)n / EXAGGERATION);
    const int exaggerated = o.iterations / 4 < EXAGGERATION_ITERATIONS ? o.iterations / 4 : EXAGGERATION_ITERATIONS;

    pf_tensor *out = pf_empty(ctx, PF_F32, PF_DIMS(n, 2));
    float *xf = malloc(sizeof *xf * (size_t)total);
    double *y = malloc(sizeof *y * (size_t)(2 * n));
    tsne_sparse p = {0};
    bool ok = out && xf && y;
    if (out && (!xf || !y))
        pf_fail("%s: out of memory for %lld points of %lld values", fn, (long long)n, (long long)d);
    ok = ok && pf_copy_to_f32(x, xf);
    for (int64_t e = 0; ok && e < total; e++)
        if (!isfinite(xf[e])) {
            pf_fail("%s: input %s: value %lld (row %lld) is %g", fn, pf_shape_str(x, sbuf, sizeof sbuf),
                    (long long)e, (long long)(e / d), (double)xf[e]);
            ok = false;
        }
    double start = pf_profile_clock();
    ok = ok && tsne_affinities(xf, n, d, o.perplexity, &p);
    if (ok && o.log)
        fprintf(o.log, "pf_tsne: %lld points of %lld values, perplexity %g: affinities in %.1f s, %lld entries\n",
                (long long)n, (long long)d, o.perplexity, pf_profile_clock() - start, (long long)p.row[n]);
    if (ok) {
        pf_rng rng;
        pf_rng_seed(&rng, o.seed);
        for (int64_t e = 0; e < 2 * n; e++)
            y[e] = 1e-4 * pf_rng_normal(&rng);
        double kl = tsne_optimise(&p, y, o.iterations, exaggerated, EXAGGERATION, o.theta, eta, o.log);
        ok = pf_ok();
        for (int64_t e = 0; ok && e < 2 * n; e++)
            if (!isfinite(y[e])) {
                pf_fail("%s: the embedding diverged (learning rate %g)", fn, eta);
                ok = false;
            }
        if (ok && o.kl_divergence)
            *o.kl_divergence = kl;
    }
    if (ok) {
        float *dst = pf_data_f32(out);
        for (int64_t e = 0; e < 2 * n; e++)
            dst[e] = (float)y[e];
    }
    tsne_sparse_free(&p);
    free(xf);
    free(y);
    return ok ? out : NULL;
}
