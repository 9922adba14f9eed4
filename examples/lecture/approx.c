/*
 * approx.c — slide "Approximation universelle":
 *
 *     "Il est possible d'approcher toute fonction continue sur un compact
 *      ψ : [0, 1]^D → R avec un réseau à une couche cachée
 *      x ↦ ω · σ(wx + b), où b ∈ R^K, w ∈ R^{K×D}, et ω ∈ R^K."
 *
 * The program fits a continuous function ψ on [0, 1] (D = 1) with
 *
 *     f(x) = Σ_k ω_k tanh(w_k x + b_k),   k = 1 .. K,
 *
 * for K = 1, 2, 4, 8, 16, 32 hidden units: all of w, b and ω are trained by
 * Adam on the mean squared error over a grid of points of [0, 1]. Each unit
 * starts as a step of random slope placed at a random point of [0, 1]. The
 * figure shows the fits over ψ, and the error on a finer grid against K: it
 * falls as K grows.
 */
#include <math.h>

#include "lecture.h"
#include "plot.h"

#define PI 3.14159265358979323846
#define WIDTHS 6
#define TRAIN_POINTS 200
#define TEST_POINTS 1001

/* The function to approximate: continuous, with two bumps and a kink. */
static double psi(double x) { return x * sin(4 * PI * x) + 0.5 * fabs(x - 0.6); }

/* Trains f with K units on (x, y) (n points) for `steps` Adam steps, then
 * writes f on the m points of xt into yt. False (pf_error() says why) if an
 * operation failed. */
static bool fit(int K, int n, const float *x, const float *y, int steps, int m, const float *xt, float *yt)
{
    pf_ctx *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_rng *rng = pf_default_rng();
    /* w_k of either sign, |w_k| in [5, 25): a step of width ~1/|w_k| at
     * c_k uniform in [0, 1] (b_k = -w_k c_k); ω_k small. */
    float w0[32], b0[32], o0[32];
    for (int k = 0; k < K; k++) {
        w0[k] = (float)((pf_rng_uniform(rng) < 0.5 ? -1 : 1) * (5 + 20 * pf_rng_uniform(rng)));
        b0[k] = (float)(-w0[k] * pf_rng_uniform(rng));
        o0[k] = (float)(0.1 * pf_rng_normal(rng));
    }
    pf_tensor *w = pf_requires_grad(pf_from_f32(params, w0, PF_DIMS(K, 1)), true);
    pf_tensor *b = pf_requires_grad(pf_from_f32(params, b0, PF_DIMS(K)), true);
    pf_tensor *omega = pf_requires_grad(pf_from_f32(params, o0, PF_DIMS(1, K)), true);
    pf_tensor *input = pf_from_f32(params, x, PF_DIMS(n, 1)), *target = pf_from_f32(params, y, PF_DIMS(n, 1));
    pf_optim *opt = pf_optim_adam(params, 3, (pf_tensor *[]){w, b, omega}, (pf_adam_opts){.lr = 1e-2});
    /* The learning rate falls from 1e-2 to 0 along a half cosine. */
    pf_schedule schedule = {.kind = PF_SCHEDULE_COSINE, .lr = 1e-2, .t_max = steps};

    for (int t = 0; t < steps && pf_ok(); t++) {
        pf_ctx_reset(step);
        pf_schedule_apply(&schedule, opt, t);
        pf_tensor *hidden = pf_tanh(step, pf_linear(step, input, w, b)); /* σ(wx + b), [n, K] */
        pf_tensor *output = pf_linear(step, hidden, omega, NULL);      /* ω · σ(wx + b), [n, 1] */
        pf_tensor *loss = pf_mse_loss(step, output, target, PF_REDUCTION_MEAN);
        pf_optim_zero_grad(opt);
        pf_backward(loss);
        pf_optim_step(opt);
    }

    pf_ctx_reset(step);
    pf_tensor *grid = pf_from_f32(step, xt, PF_DIMS(m, 1));
    pf_tensor *fx = pf_linear(step, pf_tanh(step, pf_linear(step, grid, w, b)), omega, NULL);
    bool ok = pf_ok() && pf_copy_to_f32(fx, yt);
    pf_ctx_free(step);
    pf_ctx_free(params);
    return ok;
}

int lecture_approx(lecture_run *run)
{
    static const int widths[WIDTHS] = {1, 2, 4, 8, 16, 32};
    const int steps = run->quick ? 1500 : 5000;

    float x[TRAIN_POINTS], y[TRAIN_POINTS], xt[TEST_POINTS];
    static float ft[WIDTHS][TEST_POINTS];
    for (int i = 0; i < TRAIN_POINTS; i++) {
        x[i] = (float)i / (TRAIN_POINTS - 1);
        y[i] = (float)psi(x[i]);
    }
    for (int i = 0; i < TEST_POINTS; i++)
        xt[i] = (float)i / (TEST_POINTS - 1);

    printf("fitting psi(x) = x sin(4 pi x) + 0.5 |x - 0.6| on [0, 1] with x -> sum_k omega_k tanh(w_k x + b_k)\n");
    printf("(Adam, lr 1e-2 with cosine decay, %d steps on %d points; error: mean squared error on %d points)\n", steps, TRAIN_POINTS,
           TEST_POINTS);
    double mse[WIDTHS], ks[WIDTHS];
    for (int j = 0; j < WIDTHS; j++) {
        if (!fit(widths[j], TRAIN_POINTS, x, y, steps, TEST_POINTS, xt, ft[j]))
            return lecture_fail(run, "training the network");
        double sum = 0;
        for (int i = 0; i < TEST_POINTS; i++)
            sum += (ft[j][i] - psi(xt[i])) * (ft[j][i] - psi(xt[i]));
        mse[j] = sum / TEST_POINTS;
        ks[j] = widths[j];
        printf("  K = %2d   error %.3e\n", widths[j], mse[j]);
    }
    lecture_series(run, "widths", WIDTHS, ks);
    lecture_series(run, "mse", WIDTHS, mse);

    plot *p = plot_open(lecture_path(run, "approx.png"), 1200, 540);
    if (!p)
        return 1;
    plot_panels(p, 2, 1);
    static const int colors[WIDTHS] = {PLOT_BLUE, PLOT_ORANGE, PLOT_GREEN, PLOT_PURPLE, PLOT_CYAN, PLOT_RED};
    double xs[TEST_POINTS], ys[TEST_POINTS];
    for (int i = 0; i < TEST_POINTS; i++) {
        xs[i] = xt[i];
        ys[i] = psi(xt[i]);
    }
    plot_axes(p, 0, 1, -2.3, 1.2, "x", "f(x)", "#gq and its approximations #gw#u#fiT#fn#d tanh(wx + b)");
    plot_line(p, TEST_POINTS, xs, ys, PLOT_BLACK, "#gq(x)");
    for (int j = 0; j < WIDTHS; j++) {
        char legend[32];
        for (int i = 0; i < TEST_POINTS; i++)
            ys[i] = ft[j][i];
        snprintf(legend, sizeof legend, "K = %d", widths[j]);
        plot_dashed_line(p, TEST_POINTS, xs, ys, colors[j], legend);
    }
    plot_legend_at(p, PLOT_BOTTOM_LEFT);
    double lo = mse[0], hi = mse[0];
    for (int j = 0; j < WIDTHS; j++) {
        lo = fmin(lo, mse[j]);
        hi = fmax(hi, mse[j]);
    }
    plot_axes_log_xy(p, 0.8, 40, lo / 3, hi * 3, "K (hidden units)", "mean squared error",
                     "error against the width K");
    plot_line(p, WIDTHS, ks, mse, PLOT_BLUE, NULL);
    plot_points(p, WIDTHS, ks, mse, PLOT_BLUE, 2, NULL);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "approx.png",
                   "Left: ψ(x) = x sin(4πx) + 0.5 |x − 0.6| and its fits x ↦ ω·tanh(wx + b) with K = 1 to 32 "
                   "hidden units, trained by Adam. Right: their mean squared error against K.");
    lecture_note(run, "The mean squared error falls from %.2g with K = 1 to %.2g with K = 32.", mse[0],
                 mse[WIDTHS - 1]);
    return 0;
}
