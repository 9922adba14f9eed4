/*
 * test_pca.c — section 15's PCA (src/analysis/pca.c):
 *
 *   known decomposition   data built from a known orthonormal basis Q, known
 *                         variances λ and a known mean m, whose sample
 *                         covariance is exactly Q diag(λ) Qᵀ (the codes are
 *                         columns of a Hadamard matrix: orthogonal, zero
 *                         mean): the fit recovers m, λ and Q's columns (with
 *                         the documented signs), from float32 and float64;
 *   PyTorch               torch.linalg.eigh of torch.cov on random data
 *                         (tests/golden/pca.safetensors, gen_pca.py): mean,
 *                         every variance, the components, codes and
 *                         reconstructions at d = 3;
 *   reconstruction        on the training data, the mean squared error at
 *                         each d is (N-1)/N times the sum of the discarded
 *                         variances; at d = D the round trip is the identity;
 *                         components are orthonormal;
 *   shapes and head       images [N, 1, H, W] are flattened; pf_pca_head is
 *                         the first d components of the full fit;
 *   determinism           shuffling the rows changes nothing but rounding,
 *                         signs included;
 *   errors                d outside 1..D, N < 2, wrong dtypes and shapes,
 *                         non-finite values, NULLs: messages, no crash;
 *   linear autoencoder    Linear(D, d) then Linear(d, D), trained by Adam on
 *                         the MSE, reaches PCA's error at the same d (the
 *                         slide: "deux modèles linéaires, auquel cas la
 *                         solution est celle du PCA"), within 2%, and not
 *                         below it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

/* ---- Helpers ----------------------------------------------------------------- */

/* H16, the Sylvester-Hadamard matrix of order 16: entry (i, j) is
 * (-1)^popcount(i & j). Its columns are orthogonal; all but column 0 have
 * zero mean. */
static double hadamard16(int i, int j) { return __builtin_popcount((unsigned)(i & j)) % 2 ? -1.0 : 1.0; }

#define KN 16 /* examples */
#define KD 6  /* dimension */

/* An orthonormal basis of R^6 (columns of q, row-major q[i*KD + k]): the
 * Gram-Schmidt orthonormalisation of fixed vectors. */
static void known_basis(double *q)
{
    pf_rng rng;
    pf_rng_seed(&rng, 42);
    for (int k = 0; k < KD; k++) {
        double v[KD];
        for (int i = 0; i < KD; i++)
            v[i] = pf_rng_uniform(&rng) * 2 - 1;
        for (int l = 0; l < k; l++) {
            double dot = 0;
            for (int i = 0; i < KD; i++)
                dot += v[i] * q[i * KD + l];
            for (int i = 0; i < KD; i++)
                v[i] -= dot * q[i * KD + l];
        }
        double norm = 0;
        for (int i = 0; i < KD; i++)
            norm += v[i] * v[i];
        for (int i = 0; i < KD; i++)
            q[i * KD + k] = v[i] / sqrt(norm);
    }
}

static const double known_var[KD] = {9, 4, 2.25, 1, 0.25, 0.0625};
static const double known_mean[KD] = {1, -2, 0.5, 3, 0, -1};

/* x_n = m + Σ_k sqrt(λ_k) c s_nk q_k with s_nk = H16[n][k+1] and
 * c = sqrt((N-1)/N): then (1/(N-1)) Σ_n (x_n - m)(x_n - m)ᵀ = Q Λ Qᵀ. */
static pf_tensor *known_data(pf_ctx *ctx, pf_dtype dtype, double *q)
{
    known_basis(q);
    double x[KN * KD], c = sqrt((KN - 1.0) / KN);
    for (int n = 0; n < KN; n++)
        for (int i = 0; i < KD; i++) {
            double v = known_mean[i];
            for (int k = 0; k < KD; k++)
                v += sqrt(known_var[k]) * c * hadamard16(n, k + 1) * q[i * KD + k];
            x[n * KD + i] = v;
        }
    pf_tensor *t = pf_from_f64(ctx, x, PF_DIMS(KN, KD));
    return dtype == PF_F64 ? t : pf_to_dtype(ctx, t, dtype);
}

/* Mean over all elements of (a - b)^2, in double. */
static double mse(const pf_tensor *a, const pf_tensor *b)
{
    int64_t n = pf_numel(a);
    assert_int_equal(n, pf_numel(b));
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double u = pf_get(a, (const int64_t[]){i / a->shape[1], i % a->shape[1]});
        double v = pf_get(b, (const int64_t[]){i / b->shape[1], i % b->shape[1]});
        s += (u - v) * (u - v);
    }
    return s / (double)n;
}

/* Random correlated data [n, dim] (float64): standard normals times a
 * random mixing matrix, plus an offset. */
static pf_tensor *random_data(pf_ctx *ctx, uint64_t seed, int64_t n, int64_t dim)
{
    pf_rng rng;
    pf_rng_seed(&rng, seed);
    double mix[64 * 64], *x = pf_ctx_alloc(ctx, sizeof(double) * (size_t)(n * dim)), z[64];
    assert_true(dim <= 64);
    for (int64_t i = 0; i < dim * dim; i++)
        mix[i] = pf_rng_normal(&rng) / sqrt((double)dim);
    for (int64_t r = 0; r < n; r++) {
        for (int64_t j = 0; j < dim; j++)
            z[j] = pf_rng_normal(&rng);
        for (int64_t j = 0; j < dim; j++) {
            double v = 0.5 * (double)j;
            for (int64_t k = 0; k < dim; k++)
                v += z[k] * mix[k * dim + j];
            x[r * dim + j] = v;
        }
    }
    return pf_from_f64(ctx, x, PF_DIMS(n, dim));
}

/* ---- Known decomposition ------------------------------------------------------ */

static void check_known(pf_ctx *ctx, pf_dtype dtype)
{
    double q[KD * KD];
    pf_tensor *x = known_data(ctx, dtype, q);
    pf_pca *p = pf_pca_fit(ctx, x, KD);
    PF_CHECK(p != NULL);
    assert_int_equal(pf_pca_dim(p), KD);
    assert_int_equal(pf_pca_latent(p), KD);
    const double tol = dtype == PF_F64 ? 1e-10 : 2e-5;

    const pf_tensor *mean = pf_pca_mean(p), *comp = pf_pca_components(p), *var = pf_pca_variances(p);
    PF_ASSERT_SHAPE(mean, KD);
    PF_ASSERT_SHAPE(comp, KD, KD);
    PF_ASSERT_SHAPE(var, KD);
    assert_int_equal(mean->dtype, PF_F32);
    assert_int_equal(comp->dtype, PF_F32);
    assert_int_equal(var->dtype, PF_F64);
    for (int i = 0; i < KD; i++) {
        if (fabs(pf_get(mean, (const int64_t[]){i}) - known_mean[i]) > 1e-5)
            fail_msg("mean[%d] = %g, expected %g", i, pf_get(mean, (const int64_t[]){i}), known_mean[i]);
        double v = pf_get(var, (const int64_t[]){i});
        if (fabs(v - known_var[i]) > tol * known_var[0])
            fail_msg("variance %d = %.12g, expected %g", i, v, known_var[i]);
    }
    for (int k = 0; k < KD; k++) {
        /* Q's column k with the documented sign: largest |coordinate| > 0. */
        double col[KD];
        int best = 0;
        for (int i = 0; i < KD; i++) {
            col[i] = q[i * KD + k];
            if (fabs(col[i]) > fabs(col[best]))
                best = i;
        }
        double sign = col[best] < 0 ? -1 : 1;
        for (int i = 0; i < KD; i++) {
            double got = pf_get(comp, (const int64_t[]){k, i});
            if (fabs(got - sign * col[i]) > 1e-5)
                fail_msg("component %d, coordinate %d: %g, expected %g", k, i, got, sign * col[i]);
        }
    }
}

static void test_known_decomposition_f32(void **state) { check_known(*state, PF_F32); }
static void test_known_decomposition_f64(void **state) { check_known(*state, PF_F64); }

/* ---- PyTorch ---------------------------------------------------------------------- */

static void test_golden(void **state)
{
    pf_ctx *ctx = *state;
    pf_golden g = pf_golden_load(ctx, "pca");
    pf_tensor *x = pf_golden_get(&g, "x");
    pf_pca *full = pf_pca_fit(ctx, x, x->shape[1]);
    PF_CHECK(full != NULL);
    PF_ASSERT_CLOSE(pf_pca_variances(full), pf_golden_get(&g, "variances"), 1e-10, 0);
    PF_ASSERT_GOLDEN(pf_to_dtype(ctx, pf_pca_mean(full), PF_F64), pf_golden_get(&g, "mean"));
    PF_ASSERT_GOLDEN(pf_to_dtype(ctx, pf_pca_components(full), PF_F64), pf_golden_get(&g, "components"));

    /* d = 3, from float64 (codes in float64) and from float32. */
    pf_pca *p = pf_pca_fit(ctx, x, 3);
    pf_tensor *code = pf_pca_encode(ctx, p, x);
    PF_CHECK(code != NULL);
    assert_int_equal(code->dtype, PF_F64);
    PF_ASSERT_CLOSE(code, pf_golden_get(&g, "code3"), 1e-9, 0);
    PF_ASSERT_CLOSE(pf_pca_decode(ctx, p, code), pf_golden_get(&g, "recon3"), 1e-9, 0);
    pf_tensor *x32 = pf_to_dtype(ctx, x, PF_F32);
    pf_pca *p32 = pf_pca_fit(ctx, x32, 3);
    pf_tensor *code32 = pf_pca_encode(ctx, p32, x32);
    assert_int_equal(code32->dtype, PF_F32);
    PF_ASSERT_CLOSE(pf_to_dtype(ctx, code32, PF_F64), pf_golden_get(&g, "code3"), 1e-5, 1e-5);
    PF_ASSERT_CLOSE(pf_to_dtype(ctx, pf_pca_decode(ctx, p32, code32), PF_F64), pf_golden_get(&g, "recon3"), 1e-5,
                    1e-5);
}

/* ---- Reconstruction error ------------------------------------------------------ */

static void test_reconstruction_error(void **state)
{
    pf_ctx *ctx = *state;
    const int64_t n = 300, dim = 12;
    pf_tensor *x = random_data(ctx, 7, n, dim);
    pf_pca *full = pf_pca_fit(ctx, x, dim);
    PF_CHECK(full != NULL);
    const pf_tensor *var = pf_pca_variances(full);
    for (int64_t k = 0; k + 1 < dim; k++)
        assert_true(pf_get(var, &k) >= pf_get(var, (const int64_t[]){k + 1}));
    assert_true(pf_get(var, (const int64_t[]){dim - 1}) > 0);

    double previous = INFINITY;
    for (int64_t d = 1; d <= dim; d++) {
        pf_pca *p = pf_pca_fit(ctx, x, d);
        pf_tensor *recon = pf_pca_decode(ctx, p, pf_pca_encode(ctx, p, x));
        PF_CHECK(recon != NULL);
        PF_ASSERT_SHAPE(recon, n, dim);
        /* mean over elements = (N-1)/N Σ_{k >= d} λ_k / D */
        double discarded = 0;
        for (int64_t k = d; k < dim; k++)
            discarded += pf_get(var, &k);
        double expected = (double)(n - 1) / (double)n * discarded / (double)dim, got = mse(recon, x);
        if (fabs(got - expected) > 1e-10 + 1e-8 * expected)
            fail_msg("d = %lld: reconstruction error %.12g, expected (N-1)/N Σ discarded / D = %.12g",
                     (long long)d, got, expected);
        assert_true(got < previous);
        previous = got;
    }
    /* d = D: the identity (up to rounding). */
    assert_true(previous < 1e-20);

    /* Orthonormal rows: C Cᵀ = I. */
    pf_tensor *c = pf_to_dtype(ctx, pf_pca_components(full), PF_F64);
    pf_tensor *gram = pf_matmul(ctx, c, pf_transpose(ctx, c, 0, 1));
    for (int64_t i = 0; i < dim; i++)
        for (int64_t j = 0; j < dim; j++)
            assert_true(fabs(pf_get(gram, (const int64_t[]){i, j}) - (i == j)) < 1e-6);
}

/* A float32 round trip at d = D, on images. */
static void test_round_trip_images(void **state)
{
    pf_ctx *ctx = *state;
    pf_manual_seed(3);
    pf_tensor *images = pf_rand(ctx, PF_DIMS(50, 1, 4, 5));
    pf_pca *p = pf_pca_fit(ctx, images, 20);
    PF_CHECK(p != NULL);
    assert_int_equal(pf_pca_dim(p), 20);
    pf_tensor *z = pf_pca_encode(ctx, p, images);
    PF_ASSERT_SHAPE(z, 50, 20);
    pf_tensor *back = pf_pca_decode(ctx, p, z);
    PF_ASSERT_SHAPE(back, 50, 20);
    PF_ASSERT_CLOSE(back, pf_reshape(ctx, images, PF_DIMS(50, 20)), 0, 1e-5);
    /* A batch of another size, and 3-D codes refused by shape. */
    PF_ASSERT_SHAPE(pf_pca_encode(ctx, p, pf_narrow(ctx, images, 0, 0, 7)), 7, 20);
}

/* ---- pf_pca_head ------------------------------------------------------------------ */

static void test_head(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_to_dtype(ctx, random_data(ctx, 11, 100, 10), PF_F32);
    pf_pca *full = pf_pca_fit(ctx, x, 10), *three = pf_pca_fit(ctx, x, 3);
    pf_pca *head = pf_pca_head(ctx, full, 3);
    PF_CHECK(head != NULL);
    assert_int_equal(pf_pca_latent(head), 3);
    assert_int_equal(pf_pca_latent(full), 10);
    PF_ASSERT_SHAPE(pf_pca_components(head), 3, 10);
    PF_ASSERT_CLOSE(pf_pca_components(head), pf_pca_components(three), 0, 0);
    PF_ASSERT_CLOSE(pf_pca_variances(head), pf_pca_variances(full), 0, 0);
    pf_tensor *z = pf_pca_encode(ctx, head, x), *zf = pf_pca_encode(ctx, full, x);
    PF_ASSERT_CLOSE(z, pf_narrow(ctx, zf, 1, 0, 3), 1e-6, 1e-6);
    PF_ASSERT_SHAPE(pf_pca_decode(ctx, head, z), 100, 10);
    /* A head of a head. */
    PF_ASSERT_SHAPE(pf_pca_components(pf_pca_head(ctx, head, 1)), 1, 10);
}

/* ---- Determinism ------------------------------------------------------------------- */

static void test_rows_shuffled(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_to_dtype(ctx, random_data(ctx, 5, 2000, 30), PF_F32);
    pf_manual_seed(9);
    pf_tensor *shuffled = pf_index_select(ctx, x, 0, pf_randperm(ctx, 2000));
    pf_pca *a = pf_pca_fit(ctx, x, 8), *b = pf_pca_fit(ctx, shuffled, 8);
    PF_CHECK(a && b);
    PF_ASSERT_CLOSE(pf_pca_components(a), pf_pca_components(b), 0, 1e-5);
    PF_ASSERT_CLOSE(pf_pca_variances(a), pf_pca_variances(b), 1e-10, 0);
    /* The same thing twice: bit for bit. */
    pf_pca *c = pf_pca_fit(ctx, x, 8);
    PF_ASSERT_CLOSE(pf_pca_components(a), pf_pca_components(c), 0, 0);
    /* Strided input (a transposed view): the same PCA. */
    pf_tensor *xt = pf_transpose(ctx, pf_contiguous(ctx, pf_transpose(ctx, x, 0, 1)), 0, 1);
    assert_false(pf_is_contiguous(xt));
    PF_ASSERT_CLOSE(pf_pca_components(pf_pca_fit(ctx, xt, 8)), pf_pca_components(a), 0, 0);
}

/* ---- Errors ------------------------------------------------------------------------ */

static void test_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_rand(ctx, PF_DIMS(10, 4));
    assert_null(pf_pca_fit(ctx, x, 0));
    PF_ASSERT_ERROR("0 components asked of x [10,4]; between 1 and D = 4");
    assert_null(pf_pca_fit(ctx, x, 5));
    PF_ASSERT_ERROR("between 1 and D = 4");
    assert_null(pf_pca_fit(ctx, x, -1));
    PF_ASSERT_ERROR("between 1 and D");
    assert_null(pf_pca_fit(ctx, pf_rand(ctx, PF_DIMS(1, 4)), 2));
    PF_ASSERT_ERROR("has 1 example; a covariance needs at least 2");
    assert_null(pf_pca_fit(ctx, pf_rand(ctx, PF_DIMS(0, 4)), 2));
    PF_ASSERT_ERROR("has 0 examples");
    assert_null(pf_pca_fit(ctx, pf_rand(ctx, PF_DIMS(4)), 2));
    PF_ASSERT_ERROR("must be [N, D]");
    assert_null(pf_pca_fit(ctx, pf_zeros(ctx, PF_DIMS(3, 0)), 1));
    PF_ASSERT_ERROR("no values per example");
    assert_null(pf_pca_fit(ctx, pf_from_i64(ctx, (int64_t[]){1, 2, 3, 4}, PF_DIMS(2, 2)), 1));
    PF_ASSERT_ERROR("is int64, expected float32 or float64");
    assert_null(pf_pca_fit(ctx, pf_zeros(ctx, PF_DIMS(2, 20000)), 1));
    PF_ASSERT_ERROR("at most 16384");
    pf_tensor *bad = pf_rand(ctx, PF_DIMS(10, 4));
    pf_set(bad, (const int64_t[]){3, 2}, NAN);
    assert_null(pf_pca_fit(ctx, bad, 2));
    PF_ASSERT_ERROR("non-finite values (NaN or infinity) in column 2");
    pf_set(bad, (const int64_t[]){3, 2}, INFINITY);
    assert_null(pf_pca_fit(ctx, bad, 2));
    PF_ASSERT_ERROR("non-finite");
    pf_set(bad, (const int64_t[]){3, 2}, 3e38);
    pf_set(bad, (const int64_t[]){4, 2}, -3e38);
    pf_set(bad, (const int64_t[]){5, 2}, 3e38);
    PF_CHECK(pf_pca_fit(ctx, bad, 2) != NULL); /* huge but finite: fine in double */
    assert_null(pf_pca_fit(NULL, x, 2));
    PF_ASSERT_ERROR("NULL context");
    assert_null(pf_pca_fit(ctx, NULL, 2));
    PF_ASSERT_ERROR("NULL input");

    /* A NULL input after an error keeps the first error. */
    pf_fail("first");
    assert_null(pf_pca_fit(ctx, NULL, 2));
    PF_ASSERT_ERROR("first");

    /* Constant data: zero variances, still a PCA (any orthonormal basis). */
    pf_pca *flat = pf_pca_fit(ctx, pf_ones(ctx, PF_DIMS(5, 3)), 2);
    PF_CHECK(flat != NULL);
    PF_ASSERT_VALUES(pf_pca_variances(flat), 0, 0, 0, 0);

    pf_pca *p = pf_pca_fit(ctx, x, 2);
    PF_CHECK(p != NULL);
    assert_null(pf_pca_encode(ctx, p, pf_rand(ctx, PF_DIMS(3, 5))));
    PF_ASSERT_ERROR("pf_pca_encode: x [3,5] does not have 4 values per example");
    assert_null(pf_pca_encode(ctx, p, pf_rand(ctx, PF_DIMS(4))));
    PF_ASSERT_ERROR("pf_pca_encode: x [4] must be [N, 4]");
    assert_null(pf_pca_decode(ctx, p, pf_rand(ctx, PF_DIMS(3, 4))));
    PF_ASSERT_ERROR("pf_pca_decode: z [3,4] does not have 2 values per example");
    assert_null(pf_pca_decode(ctx, p, pf_from_i64(ctx, (int64_t[]){1, 2}, PF_DIMS(1, 2))));
    PF_ASSERT_ERROR("is int64");
    assert_null(pf_pca_encode(ctx, NULL, x));
    PF_ASSERT_ERROR("pf_pca_encode: NULL PCA");
    assert_null(pf_pca_decode(ctx, p, NULL));
    PF_ASSERT_ERROR("pf_pca_decode: NULL input");
    assert_null(pf_pca_head(ctx, p, 3));
    PF_ASSERT_ERROR("pf_pca_head: 3 components asked of a PCA that has 2");
    assert_null(pf_pca_head(ctx, p, 0));
    PF_ASSERT_ERROR("pf_pca_head");
    assert_null(pf_pca_head(ctx, NULL, 1));
    PF_ASSERT_ERROR("NULL PCA");
    assert_null(pf_pca_mean(NULL));
    assert_null(pf_pca_components(NULL));
    assert_null(pf_pca_variances(NULL));
    assert_int_equal(pf_pca_dim(NULL), 0);
    assert_int_equal(pf_pca_latent(NULL), 0);
    assert_true(pf_ok());
}

/* Encoding is made of ops: differentiable in x. */
static void test_encode_gradient(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = random_data(ctx, 2, 30, 5);
    pf_pca *p = pf_pca_fit(ctx, x, 2);
    pf_tensor *leaf = pf_requires_grad(pf_clone(ctx, x), true);
    pf_tensor *recon = pf_pca_decode(ctx, p, pf_pca_encode(ctx, p, leaf));
    PF_CHECK(pf_backward(pf_sum(ctx, recon)));
    /* d Σ (Cᵀ C (x - m) + m) / dx = 1ᵀ Cᵀ C, the same for every row. */
    pf_tensor *c = pf_to_dtype(ctx, pf_pca_components(p), PF_F64);
    pf_tensor *expected = pf_sum_dims(ctx, pf_matmul(ctx, pf_transpose(ctx, c, 0, 1), c), 1, (const int[]){0}, false);
    PF_ASSERT_CLOSE(pf_select(ctx, leaf->grad, 0, 17), expected, 1e-6, 1e-6);
}

/* ---- The linear autoencoder ------------------------------------------------------ */

/* Synthetic data [N, 20] with variances 9, 6, 4, 3 along four directions
 * and at most 1 along the others, so that d = 4 has a clear gap. */
#define AE_N 500
#define AE_D 20
#define AE_LATENT 4
#define AE_STEPS 1500

static void test_linear_autoencoder(void **state)
{
    pf_ctx *ctx = *state;
    pf_rng rng;
    pf_rng_seed(&rng, 2024);
    double q[AE_D * AE_D];
    /* A random orthonormal basis (Gram-Schmidt of random vectors). */
    for (int k = 0; k < AE_D; k++) {
        double v[AE_D], norm = 0;
        for (int i = 0; i < AE_D; i++)
            v[i] = pf_rng_normal(&rng);
        for (int l = 0; l < k; l++) {
            double dot = 0;
            for (int i = 0; i < AE_D; i++)
                dot += v[i] * q[l * AE_D + i];
            for (int i = 0; i < AE_D; i++)
                v[i] -= dot * q[l * AE_D + i];
        }
        for (int i = 0; i < AE_D; i++)
            norm += v[i] * v[i];
        for (int i = 0; i < AE_D; i++)
            q[k * AE_D + i] = v[i] / sqrt(norm);
    }
    static float data[AE_N * AE_D];
    for (int n = 0; n < AE_N; n++)
        for (int i = 0; i < AE_D; i++)
            data[n * AE_D + i] = 0;
    for (int n = 0; n < AE_N; n++)
        for (int k = 0; k < AE_D; k++) {
            double sd = k < AE_LATENT ? sqrt((const double[]){9, 6, 4, 3}[k]) : 1.0 - 0.045 * (k - AE_LATENT);
            double z = sd * pf_rng_normal(&rng);
            for (int i = 0; i < AE_D; i++)
                data[n * AE_D + i] += (float)(z * q[k * AE_D + i] + (k == 0 ? 0.1 * i : 0));
        }
    pf_tensor *x = pf_from_f32(ctx, data, PF_DIMS(AE_N, AE_D));

    /* PCA's error: the optimum over all linear maps through R^4. */
    pf_pca *pca = pf_pca_fit(ctx, x, AE_LATENT);
    double pca_mse = pf_item(pf_mse_loss(ctx, pf_pca_decode(ctx, pca, pf_pca_encode(ctx, pca, x)), x,
                                         PF_REDUCTION_MEAN));
    PF_CHECK(isfinite(pca_mse));

    /* Linear(20, 4) then Linear(4, 20), MSE, Adam, full batch. */
    pf_manual_seed(1);
    pf_ctx *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_module *ae = pf_nn_sequential(params, PF_LAYERS(pf_nn_linear(params, AE_D, AE_LATENT, true),
                                                      pf_nn_linear(params, AE_LATENT, AE_D, true)));
    int n_params = 0;
    pf_tensor **ps = pf_module_parameter_array(ae, &n_params);
    pf_optim *opt = pf_optim_adam(params, n_params, ps, (pf_adam_opts){.lr = 1e-2});
    PF_CHECK(opt != NULL);
    double loss = INFINITY;
    for (int t = 0; t < AE_STEPS; t++) {
        if (t == AE_STEPS * 2 / 3)
            pf_optim_set_lr(opt, 1e-3);
        pf_tensor *l = pf_mse_loss(step, pf_forward(step, ae, x), x, PF_REDUCTION_MEAN);
        pf_optim_zero_grad(opt);
        pf_backward(l);
        pf_optim_step(opt);
        loss = pf_item(l);
        pf_ctx_reset(step);
    }
    PF_CHECK(pf_ok());
    double ae_mse = pf_item(pf_mse_loss(step, pf_forward(step, ae, x), x, PF_REDUCTION_MEAN));
    print_message("linear autoencoder: MSE %.6f after %d Adam steps (last step's loss %.6f); PCA: %.6f (ratio %.4f)\n",
                  ae_mse, AE_STEPS, loss, pca_mse, ae_mse / pca_mse);
    if (!(ae_mse <= pca_mse * 1.02))
        fail_msg("linear autoencoder's MSE %g is not within 2%% of PCA's %g", ae_mse, pca_mse);
    if (!(ae_mse >= pca_mse * (1 - 1e-4)))
        fail_msg("linear autoencoder's MSE %g is below PCA's %g: PCA is not the optimum", ae_mse, pca_mse);
    pf_ctx_free(step);
    pf_ctx_free(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_known_decomposition_f32, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_known_decomposition_f64, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_golden, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_reconstruction_error, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_images, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_head, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_rows_shuffled, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_encode_gradient, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_linear_autoencoder, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
