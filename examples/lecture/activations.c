/*
 * activations.c — the lecture's two classic activation functions, slide
 * "Modèles linéaires":
 *
 *     tanh(x) = 2 / (1 + e^(-2x)) - 1        ReLU(x) = max(0, x)
 *
 * Both are computed by profond's ops (pf_tanh, pf_relu) on a grid of x, and
 * the program checks the slide's formula for tanh against pf_tanh.
 */
#include <math.h>

#include "lecture.h"
#include "plot.h"

#define POINTS 401

int lecture_activations(lecture_run *run)
{
    pf_ctx *ctx = pf_ctx_new(0);
    pf_tensor *x = pf_mul_scalar(ctx, pf_arange(ctx, -200, 201, 1), 0.02); /* -4 .. 4 */
    pf_tensor *tanh_x = pf_tanh(ctx, x), *relu_x = pf_relu(ctx, x);
    /* The slide's formula, 2 / (1 + exp(-2x)) - 1, built from ops too. */
    pf_tensor *formula = pf_add_scalar(
        ctx, pf_div(ctx, pf_full(ctx, 2, PF_DIMS(POINTS)), pf_add_scalar(ctx, pf_exp(ctx, pf_mul_scalar(ctx, x, -2)), 1)),
        -1);
    double xs[POINTS], ts[POINTS], rs[POINTS], fs[POINTS];
    if (!pf_copy_to_f64(x, xs) || !pf_copy_to_f64(tanh_x, ts) || !pf_copy_to_f64(relu_x, rs) ||
        !pf_copy_to_f64(formula, fs)) {
        pf_ctx_free(ctx);
        return lecture_fail(run, "computing the activations");
    }
    pf_ctx_free(ctx);

    double worst = 0;
    for (int i = 0; i < POINTS; i++)
        worst = fmax(worst, fabs(ts[i] - fs[i]));
    printf("tanh(x) and 2/(1+e^(-2x)) - 1 differ by at most %.2g on [-4, 4]\n", worst);
    lecture_number(run, "max_difference_tanh_formula", worst);

    plot *p = plot_open(lecture_path(run, "activations.png"), 1000, 450);
    plot_panels(p, 2, 1);
    plot_axes(p, -4, 4, -1.2, 1.2, "x", "tanh(x)", "tanh(x) = 2/(1+e#u-2x#d) - 1");
    plot_line(p, POINTS, xs, ts, PLOT_BLUE, NULL);
    plot_axes(p, -4, 4, -0.5, 4.2, "x", "ReLU(x)", "ReLU(x) = max(0, x)");
    plot_line(p, POINTS, xs, rs, PLOT_RED, NULL);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "activations.png",
                   "tanh and ReLU, computed by pf_tanh and pf_relu on 401 points of [-4, 4].");
    lecture_note(run, "The slide's formula for tanh agrees with pf_tanh to %.1g.", worst);
    return 0;
}
