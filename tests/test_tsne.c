/*
 * test_tsne.c — section 15's t-SNE (pf_tsne) and nearest-neighbour accuracy
 * (pf_knn_accuracy), and the parts of src/analysis/ behind them:
 *
 *   neighbours    the BLAS search gives the exact k nearest (against a
 *                 double brute force), ties to the lower index;
 *   calibration   each row of p_{j|i} sums to 1 and has entropy
 *                 log(perplexity), at any scale of the distances;
 *   P             symmetric, sums to 1, no diagonal, sorted rows;
 *   quadtree      theta -> 0 gives the exact repulsion; theta = 0.5 is
 *                 within a few percent;
 *   the map       Gaussian clusters in 50-D come out as separate, compact
 *                 clusters (1-NN accuracy 1, spread small against the
 *                 distances between clusters), and the KL divergence is
 *                 below that of a short run;
 *   determinism   the same seed gives the same bits on 1 and 3 threads; a
 *                 different seed a different map;
 *   errors        every invalid argument gives a message, not a crash;
 *   accuracy      pf_knn_accuracy on hand-made cases, ties included.
 * Sizes stay small (a few hundred points) so that the test takes a second.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne_internal.h"
#include "testing.h"

/* |actual - expected| <= tol, NaN failing. */
#define ASSERT_NEAR(actual, expected, tol)                                                                   \
    do {                                                                                                     \
        double a_ = (actual), e_ = (expected);                                                               \
        if (!(fabs(a_ - e_) <= (tol)))                                                                       \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #actual, a_, e_, (double)(tol));           \
    } while (0)

/* Points of `clusters` Gaussian clusters in d dimensions (n per cluster):
 * centres N(0, spread²) per coordinate, points N(centre, 1). Labels are the
 * cluster numbers. */
static void make_clusters(pf_ctx *ctx, uint64_t seed, int clusters, int n, int d, double spread, pf_tensor **x,
                          pf_tensor **labels)
{
    pf_rng rng;
    pf_rng_seed(&rng, seed);
    float *v = malloc(sizeof *v * (size_t)(clusters * n * d));
    int64_t *l = malloc(sizeof *l * (size_t)(clusters * n));
    double *centre = malloc(sizeof *centre * (size_t)d);
    assert_non_null(v);
    assert_non_null(l);
    assert_non_null(centre);
    for (int c = 0; c < clusters; c++) {
        for (int t = 0; t < d; t++)
            centre[t] = spread * pf_rng_normal(&rng);
        for (int i = 0; i < n; i++) {
            int64_t row = (int64_t)c * n + i;
            l[row] = c;
            for (int t = 0; t < d; t++)
                v[row * d + t] = (float)(centre[t] + pf_rng_normal(&rng));
        }
    }
    *x = pf_from_f32(ctx, v, PF_DIMS(clusters * n, d));
    *labels = pf_from_i64(ctx, l, PF_DIMS(clusters * n));
    free(v);
    free(l);
    free(centre);
    PF_CHECK(*x && *labels);
}

/* ---- neighbours ------------------------------------------------------------ */

static void test_knn_search_is_exact(void **state)
{
    (void)state;
    enum { N = 300, D = 7, K = 6 };
    static float x[N * D];
    pf_rng rng;
    pf_rng_seed(&rng, 3);
    for (int e = 0; e < N * D; e++)
        x[e] = (float)(100 + pf_rng_normal(&rng)); /* far from 0: the float products lose digits */
    /* Duplicates: row 10 = row 20 = row 30, so each has two neighbours at 0. */
    memcpy(x + 20 * D, x + 10 * D, sizeof(float) * D);
    memcpy(x + 30 * D, x + 10 * D, sizeof(float) * D);
    static int32_t index[N * K];
    static double dist2[N * K];
    PF_CHECK(pf_knn_search("test", x, N, D, K, index, dist2));
    for (int i = 0; i < N; i++) {
        /* The reference: every other row by exact distance, then index. */
        double best_d[K];
        int best_j[K], count = 0;
        for (int j = 0; j < N; j++) {
            if (j == i)
                continue;
            double s = 0;
            for (int t = 0; t < D; t++)
                s += ((double)x[i * D + t] - x[j * D + t]) * ((double)x[i * D + t] - x[j * D + t]);
            int at = count < K ? count++ : K;
            while (at > 0 && (best_d[at - 1] > s)) {
                if (at < K) {
                    best_d[at] = best_d[at - 1];
                    best_j[at] = best_j[at - 1];
                }
                at--;
            }
            if (at < K) {
                best_d[at] = s;
                best_j[at] = j;
            }
        }
        for (int c = 0; c < K; c++) {
            assert_int_equal(index[i * K + c], best_j[c]);
            ASSERT_NEAR(dist2[i * K + c], best_d[c], 1e-9);
        }
    }
    assert_int_equal(index[10 * K + 0], 20);
    assert_int_equal(index[10 * K + 1], 30);
    assert_int_equal(index[30 * K + 0], 10);
    assert_int_equal(index[30 * K + 1], 20);
    assert_true(dist2[10 * K] == 0 && dist2[10 * K + 1] == 0);
}

/* ---- calibration ----------------------------------------------------------- */

static void test_conditional_entropy_is_log_perplexity(void **state)
{
    (void)state;
    enum { N = 40, K = 45 };
    static double dist2[N * K], p[N * K], beta[N];
    pf_rng rng;
    pf_rng_seed(&rng, 5);
    const double scales[] = {1e-8, 1, 1e6};
    const double perplexities[] = {2, 5, 15};
    for (int s = 0; s < 3; s++)
        for (int q = 0; q < 3; q++) {
            for (int e = 0; e < N * K; e++)
                dist2[e] = scales[s] * 10 * pf_rng_uniform(&rng);
            tsne_conditional(dist2, N, K, perplexities[q], p, beta);
            for (int i = 0; i < N; i++) {
                double sum = 0, h = 0;
                for (int j = 0; j < K; j++) {
                    assert_true(p[i * K + j] >= 0);
                    sum += p[i * K + j];
                    if (p[i * K + j] > 0)
                        h -= p[i * K + j] * log(p[i * K + j]);
                }
                ASSERT_NEAR(sum, 1, 1e-12);
                ASSERT_NEAR(h, log(perplexities[q]), 1e-4);
                assert_true(beta[i] > 0 && isfinite(beta[i]));
                /* p falls with the distance. */
                for (int j = 0; j < K; j++)
                    for (int m = 0; m < K; m++)
                        if (dist2[i * K + j] < dist2[i * K + m])
                            assert_true(p[i * K + j] >= p[i * K + m]);
            }
        }
    /* Equal distances: uniform p, whatever the perplexity asks. */
    for (int e = 0; e < K; e++)
        dist2[e] = 3;
    tsne_conditional(dist2, 1, K, 5, p, NULL);
    for (int j = 0; j < K; j++)
        ASSERT_NEAR(p[j], 1.0 / K, 1e-12);
}

static void test_affinities_symmetric_and_normalised(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x, *labels;
    make_clusters(ctx, 7, 3, 40, 10, 3, &x, &labels);
    const float *v = pf_data_f32(x);
    tsne_sparse p;
    PF_CHECK(tsne_affinities(v, 120, 10, 10, &p));
    assert_int_equal(p.n, 120);
    double total = 0;
    for (int64_t i = 0; i < p.n; i++) {
        assert_true(p.row[i + 1] - p.row[i] >= 30); /* its own 30 neighbours at least */
        for (int64_t e = p.row[i]; e < p.row[i + 1]; e++) {
            int32_t j = p.col[e];
            assert_true(j != i);
            assert_true(p.val[e] > 0);
            if (e > p.row[i])
                assert_true(p.col[e - 1] < j);
            total += p.val[e];
            /* P_ji is there and equal. */
            bool found = false;
            for (int64_t f = p.row[j]; f < p.row[j + 1]; f++)
                if (p.col[f] == i) {
                    ASSERT_NEAR(p.val[f], p.val[e], 1e-18);
                    found = true;
                }
            assert_true(found);
        }
    }
    ASSERT_NEAR(total, 1, 1e-12);
    tsne_sparse_free(&p);
}

/* ---- quadtree ---------------------------------------------------------------- */

static void test_tree_repulsion_against_exact(void **state)
{
    (void)state;
    enum { N = 400 };
    static double y[2 * N];
    pf_rng rng;
    pf_rng_seed(&rng, 9);
    for (int e = 0; e < 2 * N; e++)
        y[e] = 5 * pf_rng_normal(&rng);
    y[2 * 7] = y[2 * 8]; /* two coincident points */
    y[2 * 7 + 1] = y[2 * 8 + 1];
    tsne_tree tree = {0};
    PF_CHECK(tsne_tree_build(&tree, y, N));
    assert_int_equal(tree.node[0].count, N);
    /* theta: 0.5 (the default), 0.25, 0.1: Z's and the forces' errors. */
    const double thetas[3] = {0.5, 0.25, 0.1};
    double z_exact = 0, z_bh[3] = {0}, err[3] = {0}, norm = 0;
    for (int i = 0; i < N; i++) {
        double ex = 0, ey = 0, es = 0;
        for (int j = 0; j < N; j++) {
            if (j == i)
                continue;
            double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1], q = 1 / (1 + dx * dx + dy * dy);
            es += q;
            ex += q * q * dx;
            ey += q * q * dy;
        }
        double fx, fy, s;
        tsne_tree_repulsion(&tree, y, i, 1e-9, &fx, &fy, &s);
        ASSERT_NEAR(fx, ex, 1e-12 * (1 + fabs(ex)));
        ASSERT_NEAR(fy, ey, 1e-12 * (1 + fabs(ey)));
        ASSERT_NEAR(s, es, 1e-10 * es);
        z_exact += es;
        norm += ex * ex + ey * ey;
        for (int t = 0; t < 3; t++) {
            tsne_tree_repulsion(&tree, y, i, thetas[t], &fx, &fy, &s);
            z_bh[t] += s;
            err[t] += (fx - ex) * (fx - ex) + (fy - ey) * (fy - ey);
        }
    }
    double z_err[3], f_err[3];
    for (int t = 0; t < 3; t++) {
        z_err[t] = fabs(z_bh[t] - z_exact) / z_exact;
        f_err[t] = sqrt(err[t] / norm);
        print_message("theta %.2f: Z off by %.3f%%, forces by %.3f%% (rms)\n", thetas[t], 100 * z_err[t],
                      100 * f_err[t]);
    }
    /* The reference's criterion (half width against distance) is loose at
     * 0.5 on this dense cloud; the errors fall with theta. */
    assert_true(z_err[0] < 0.06 && f_err[0] < 0.15);
    assert_true(z_err[1] < z_err[0] && f_err[1] < f_err[0] && z_err[2] < z_err[1] && f_err[2] < f_err[1]);
    assert_true(z_err[2] < 0.002 && f_err[2] < 0.01);
    /* Rebuilding in the same memory, for other points. */
    for (int e = 0; e < 2 * N; e++)
        y[e] *= 1e-6;
    PF_CHECK(tsne_tree_build(&tree, y, N));
    assert_int_equal(tree.node[0].count, N);
    tsne_tree_free(&tree);
}

/* ---- the map ------------------------------------------------------------------- */

static void test_clusters_come_out_separate_and_compact(void **state)
{
    pf_ctx *ctx = *state;
    enum { C = 5, PER = 60, D = 50 };
    pf_tensor *x, *labels;
    make_clusters(ctx, 11, C, PER, D, 4, &x, &labels);
    /* In 50-D the clusters are apart (distance between centres about
     * 4·sqrt(100) = 40 against a spread of sqrt(2·50) = 10 within). */
    double kl_short, kl;
    pf_tensor *y_short = pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 10, .iterations = 60, .seed = 1,
                                                         .kl_divergence = &kl_short});
    pf_tensor *y = pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 10, .iterations = 500, .seed = 1,
                                                   .kl_divergence = &kl});
    PF_CHECK(y && y_short);
    PF_ASSERT_SHAPE(y, C * PER, 2);
    assert_true(y->dtype == PF_F32);
    assert_true(kl < kl_short);
    assert_true(kl > 0 && kl < 2);
    ASSERT_NEAR(pf_knn_accuracy(y, labels), 1.0, 0);

    /* Compact: each point is nearer its own cluster's centre than any other
     * cluster's, by far (the mean distance to its own centre is under a
     * fifth of the smallest distance between centres). */
    const float *v = pf_data_f32(y);
    double cx[C] = {0}, cy[C] = {0}, within = 0;
    for (int i = 0; i < C * PER; i++) {
        cx[i / PER] += v[2 * i] / PER;
        cy[i / PER] += v[2 * i + 1] / PER;
    }
    for (int i = 0; i < C * PER; i++)
        within += hypot(v[2 * i] - cx[i / PER], v[2 * i + 1] - cy[i / PER]) / (C * PER);
    double between = INFINITY;
    for (int a = 0; a < C; a++)
        for (int b = a + 1; b < C; b++)
            between = fmin(between, hypot(cx[a] - cx[b], cy[a] - cy[b]));
    print_message("within-cluster distance %.3f, nearest centres %.3f, KL %.4f (after 60 iterations %.4f)\n",
                  within, between, kl, kl_short);
    assert_true(within < between / 5);
    /* Centred. */
    double mx = 0, my = 0;
    for (int i = 0; i < C * PER; i++) {
        mx += v[2 * i];
        my += v[2 * i + 1];
    }
    assert_true(fabs(mx) / (C * PER) < 1e-4 && fabs(my) / (C * PER) < 1e-4);
}

static void test_reproducible_on_any_thread_count(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x, *labels;
    /* Above the size where the loops go parallel. */
    make_clusters(ctx, 13, 4, 300, 20, 3, &x, &labels);
    int threads = pf_get_num_threads();
    pf_tensor *y[3];
    for (int k = 0; k < 3; k++) {
        pf_set_num_threads(k == 1 ? 3 : 1);
        y[k] = pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 20, .iterations = 80, .seed = k == 2 ? 43 : 42});
    }
    pf_set_num_threads(threads);
    PF_CHECK(y[0] && y[1] && y[2]);
    PF_ASSERT_CLOSE(y[1], y[0], 0, 0);
    assert_memory_not_equal(pf_data_f32(y[2]), pf_data_f32(y[0]), sizeof(float) * 2400);
    /* float64 input: the same map (the input is read as float). */
    pf_tensor *y64 = pf_tsne(ctx, pf_to_dtype(ctx, x, PF_F64),
                             &(pf_tsne_opts){.perplexity = 20, .iterations = 80, .seed = 42});
    PF_ASSERT_CLOSE(y64, y[0], 0, 0);
}

static void test_tsne_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *x = pf_randn(ctx, PF_DIMS(20, 3));
    PF_CHECK(pf_tsne(ctx, NULL, NULL) == NULL);
    PF_ASSERT_ERROR("NULL input");
    PF_CHECK(pf_tsne(NULL, x, NULL) == NULL);
    PF_ASSERT_ERROR("NULL context");
    PF_CHECK(pf_tsne(ctx, pf_randn(ctx, PF_DIMS(3, 3)), &(pf_tsne_opts){.perplexity = 1}) == NULL);
    PF_ASSERT_ERROR("needs 4");
    PF_CHECK(pf_tsne(ctx, pf_randn(ctx, PF_DIMS(20)), NULL) == NULL);
    PF_ASSERT_ERROR("expected a float tensor [N, D]");
    PF_CHECK(pf_tsne(ctx, pf_randint(ctx, 0, 5, PF_DIMS(20, 3)), NULL) == NULL);
    PF_ASSERT_ERROR("expected a float tensor");
    /* The default perplexity 30 needs 91 points. */
    PF_CHECK(pf_tsne(ctx, x, NULL) == NULL);
    PF_ASSERT_ERROR("perplexity 30 is too large for 20 points");
    PF_CHECK(pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 7}) == NULL);
    PF_ASSERT_ERROR("too large");
    PF_CHECK(pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 0.5}) == NULL);
    PF_ASSERT_ERROR("at least 1");
    PF_CHECK(pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = NAN}) == NULL);
    PF_ASSERT_ERROR("perplexity");
    PF_CHECK(pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 5, .iterations = -1}) == NULL);
    PF_ASSERT_ERROR("-1 iterations");
    PF_CHECK(pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 5, .theta = -1}) == NULL);
    PF_ASSERT_ERROR("theta");
    PF_CHECK(pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = 5, .learning_rate = -3}) == NULL);
    PF_ASSERT_ERROR("learning rate");
    pf_tensor *bad = pf_clone(ctx, x);
    PF_CHECK(pf_set(bad, (int64_t[]){4, 1}, NAN));
    PF_CHECK(pf_tsne(ctx, bad, &(pf_tsne_opts){.perplexity = 5}) == NULL);
    PF_ASSERT_ERROR("(row 4) is nan");
    PF_CHECK(pf_set(bad, (int64_t[]){4, 1}, INFINITY));
    PF_CHECK(pf_tsne(ctx, bad, &(pf_tsne_opts){.perplexity = 5}) == NULL);
    PF_ASSERT_ERROR("is inf");
    /* A failure earlier in a chain: NULL, the first error kept. */
    PF_CHECK(pf_tsne(ctx, pf_reshape(ctx, x, PF_DIMS(7, 7)), NULL) == NULL);
    assert_non_null(strstr(pf_error(), "reshape"));
    pf_error_clear();
    /* The smallest valid case, and identical points (all distances 0). */
    pf_tensor *y = pf_tsne(ctx, pf_zeros(ctx, PF_DIMS(4, 2)), &(pf_tsne_opts){.perplexity = 1, .iterations = 50});
    PF_CHECK(y != NULL);
    PF_ASSERT_SHAPE(y, 4, 2);
    y = pf_tsne(ctx, pf_randn(ctx, PF_DIMS(4, 1, 2, 2)), &(pf_tsne_opts){.perplexity = 1, .iterations = 50});
    PF_CHECK(y != NULL);
}

/* ---- pf_knn_accuracy ----------------------------------------------------------- */

static void test_knn_accuracy_by_hand(void **state)
{
    pf_ctx *ctx = *state;
    /* On a line: 0 and 0.1 (class 0), 5 and 5.2 (class 1), 10 (class 0,
     * nearest to 5.2: wrong). 4 of 5 right. */
    pf_tensor *points = pf_from_f32(ctx, (float[]){0, 0.1f, 5, 5.2f, 10}, PF_DIMS(5, 1));
    pf_tensor *labels = pf_from_i64(ctx, (int64_t[]){0, 0, 1, 1, 0}, PF_DIMS(5));
    ASSERT_NEAR(pf_knn_accuracy(points, labels), 0.8, 1e-15);
    /* In the plane; a tie (1 is as near 0 as 2) goes to the lower index. */
    points = pf_from_f64(ctx, (double[]){0, 0, 1, 0, 2, 0}, PF_DIMS(3, 2));
    ASSERT_NEAR(pf_knn_accuracy(points, pf_from_i64(ctx, (int64_t[]){7, 7, 3}, PF_DIMS(3))), 2.0 / 3,
                        1e-15);
    ASSERT_NEAR(pf_knn_accuracy(points, pf_from_i64(ctx, (int64_t[]){3, 7, 7}, PF_DIMS(3))), 1.0 / 3,
                        1e-15);
    /* Well-separated clusters in 50-D: perfect; shuffled labels: near chance. */
    pf_tensor *x, *l;
    make_clusters(ctx, 17, 4, 50, 50, 4, &x, &l);
    ASSERT_NEAR(pf_knn_accuracy(x, l), 1, 0);
    pf_tensor *shuffled = pf_index_select(ctx, l, 0, pf_randperm(ctx, 200));
    assert_true(pf_knn_accuracy(x, shuffled) < 0.5);
    /* Images [N, 1, H, W] are points of H·W values. */
    ASSERT_NEAR(pf_knn_accuracy(pf_reshape(ctx, x, PF_DIMS(200, 1, 5, 10)), l), 1, 0);
}

static void test_knn_accuracy_errors(void **state)
{
    pf_ctx *ctx = *state;
    pf_tensor *points = pf_randn(ctx, PF_DIMS(5, 2));
    pf_tensor *labels = pf_from_i64(ctx, (int64_t[]){0, 1, 0, 1, 0}, PF_DIMS(5));
    assert_true(isnan(pf_knn_accuracy(NULL, labels)));
    PF_ASSERT_ERROR("NULL tensor");
    assert_true(isnan(pf_knn_accuracy(points, pf_narrow(ctx, labels, 0, 0, 4))));
    PF_ASSERT_ERROR("expected int64 [5]");
    assert_true(isnan(pf_knn_accuracy(points, pf_to_dtype(ctx, labels, PF_F32))));
    PF_ASSERT_ERROR("labels");
    assert_true(isnan(pf_knn_accuracy(pf_randn(ctx, PF_DIMS(1, 2)), pf_zeros(ctx, PF_DIMS(1)))));
    PF_ASSERT_ERROR("labels");
    assert_true(isnan(pf_knn_accuracy(pf_randn(ctx, PF_DIMS(1, 2)), pf_from_i64(ctx, (int64_t[]){0}, PF_DIMS(1)))));
    PF_ASSERT_ERROR("needs 2");
    assert_true(isnan(pf_knn_accuracy(pf_randint(ctx, 0, 3, PF_DIMS(5, 2)), labels)));
    PF_ASSERT_ERROR("expected a float tensor");
    PF_CHECK(pf_set(points, (int64_t[]){2, 0}, NAN));
    assert_true(isnan(pf_knn_accuracy(points, labels)));
    PF_ASSERT_ERROR("non-finite");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_knn_search_is_exact, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_conditional_entropy_is_log_perplexity, pf_test_setup,
                                        pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_affinities_symmetric_and_normalised, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_tree_repulsion_against_exact, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_clusters_come_out_separate_and_compact, pf_test_setup,
                                        pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_reproducible_on_any_thread_count, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_tsne_errors, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_knn_accuracy_by_hand, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_knn_accuracy_errors, pf_test_setup, pf_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
