/*
 * descent.c — slide "Entraînement": gradient descent
 *
 *     w_{t+1} = w_t - η ∇L(w_t)
 *
 * "mène [la plupart du temps] à un minimum local, qui dépend fortement de
 * w_0 et η" — shown with η = 0.125 and η = 0.5.
 *
 * The loss is the quadratic L(w) = ½ wᵀAw on R², with A symmetric of
 * eigenvalues 1 and 4.2 (an elongated valley, turned by 30°). ∇L(w) is
 * computed by profond's autograd (pf_grad). Along an eigenvector of
 * eigenvalue λ a step multiplies the coordinate by 1 - ηλ, so gradient
 * descent converges when η < 2/λ_max = 0.476: with η = 0.125 it slides down
 * into the valley, with η = 0.5 it jumps from one side of the valley to the
 * other, further each time (1 - 0.5·4.2 = -1.1), and diverges. The figure
 * draws both trajectories over the contour lines of L, and L against the
 * step.
 */
#include <math.h>

#include "lecture.h"
#include "plot.h"

#define PI 3.14159265358979323846
#define STEPS 40
#define GRID 161

/* A = R diag(1, 4.2) Rᵀ, R the rotation by 30°. */
static void make_a(float a[4])
{
    const double c = cos(PI / 6), s = sin(PI / 6), l1 = 1, l2 = 4.2;
    a[0] = (float)(l1 * c * c + l2 * s * s);
    a[1] = a[2] = (float)((l1 - l2) * c * s);
    a[3] = (float)(l1 * s * s + l2 * c * c);
}

/* L(w) = ½ wᵀAw for the row vector w [1, 2] (A symmetric: w Aᵀ = (Aw)ᵀ). */
static pf_tensor *loss(pf_ctx *ctx, pf_tensor *w, pf_tensor *a)
{
    return pf_mul_scalar(ctx, pf_sum(ctx, pf_mul(ctx, w, pf_linear(ctx, w, a, NULL))), 0.5);
}

/* STEPS steps of gradient descent from w0 with learning rate eta: the
 * iterates in u[t], v[t] and the losses in l[t], t = 0 .. STEPS. */
static bool descend(const float a0[4], const float w0[2], double eta, double *u, double *v, double *l)
{
    pf_ctx *ctx = pf_ctx_new(0);
    float w[2] = {w0[0], w0[1]};
    for (int t = 0; t <= STEPS && pf_ok(); t++) {
        pf_ctx_reset(ctx);
        pf_tensor *a = pf_from_f32(ctx, a0, PF_DIMS(2, 2));
        pf_tensor *wt = pf_requires_grad(pf_from_f32(ctx, w, PF_DIMS(1, 2)), true);
        pf_tensor *lt = loss(ctx, wt, a), *grad = NULL;
        u[t] = w[0];
        v[t] = w[1];
        l[t] = pf_item(lt);
        float g[2];
        if (t < STEPS && pf_grad(ctx, lt, 1, &wt, &grad) && pf_copy_to_f32(grad, g)) {
            w[0] -= (float)(eta * g[0]); /* w <- w - eta grad L(w) */
            w[1] -= (float)(eta * g[1]);
        }
    }
    bool ok = pf_ok();
    pf_ctx_free(ctx);
    return ok;
}

int lecture_descent(lecture_run *run)
{
    static const double etas[2] = {0.125, 0.5};
    static const int colors[2] = {PLOT_BLUE, PLOT_RED};
    const float w0[2] = {-3.2f, -0.4f};
    float a[4];
    make_a(a);

    double u[2][STEPS + 1], v[2][STEPS + 1], l[2][STEPS + 1];
    for (int k = 0; k < 2; k++)
        if (!descend(a, w0, etas[k], u[k], v[k], l[k]))
            return lecture_fail(run, "gradient descent");

    printf("gradient descent on L(w) = 1/2 w'Aw, A = [[%.3f, %.3f], [%.3f, %.3f]] (eigenvalues 1 and 4.2),\n"
           "gradients by pf_grad, from w0 = (%.1f, %.1f); it converges iff eta < 2/4.2 = %.3f\n",
           a[0], a[1], a[2], a[3], w0[0], w0[1], 2 / 4.2);
    printf("  step   eta = 0.125: w, L(w)              eta = 0.5: w, L(w)\n");
    for (int t = 0; t <= STEPS; t += t < 5 ? 1 : 5)
        printf("  %4d   (%7.3f, %7.3f) %10.4g     (%7.3f, %7.3f) %10.4g\n", t, u[0][t], v[0][t], l[0][t], u[1][t],
               v[1][t], l[1][t]);
    lecture_number(run, "loss_start", l[0][0]);
    lecture_number(run, "final_loss_eta_0_125", l[0][STEPS]);
    lecture_number(run, "final_loss_eta_0_5", l[1][STEPS]);
    lecture_series(run, "loss_eta_0_125", STEPS + 1, l[0]);
    lecture_series(run, "loss_eta_0_5", STEPS + 1, l[1]);
    lecture_series(run, "u_eta_0_5", STEPS + 1, u[1]);
    lecture_series(run, "v_eta_0_5", STEPS + 1, v[1]);

    /* The contour lines of L on [-3.5, 3.5]², at L = ½ (k/2)². */
    static double z[GRID * GRID];
    for (int i = 0; i < GRID; i++)
        for (int j = 0; j < GRID; j++) {
            double x = -3.5 + 7.0 * i / (GRID - 1), y = -3.5 + 7.0 * j / (GRID - 1);
            z[i * GRID + j] = 0.5 * (a[0] * x * x + 2 * a[1] * x * y + a[3] * y * y);
        }
    double levels[12];
    for (int k = 0; k < 12; k++)
        levels[k] = 0.5 * (k + 1) * (k + 1) / 4;

    plot *p = plot_open(lecture_path(run, "descent.png"), 1200, 540);
    if (!p)
        return 1;
    plot_panels(p, 2, 1);
    plot_axes(p, -3.5, 3.5, -3.5, 3.5, "w#d1#u", "w#d2#u", "w#dt+1#u = w#dt#u - #gy ∇L(w#dt#u)");
    plot_contour(p, GRID, GRID, z, 12, levels, PLOT_GREY);
    for (int k = 0; k < 2; k++) {
        char legend[32];
        snprintf(legend, sizeof legend, "#gy = %g", etas[k]);
        plot_line(p, STEPS + 1, u[k], v[k], colors[k], legend);
        plot_points(p, STEPS + 1, u[k], v[k], colors[k], 2, NULL);
    }
    plot_legend(p);
    double hi = fmax(l[0][0], l[1][STEPS]) * 5, lo = fmin(l[0][STEPS], l[1][0]) / 5;
    plot_axes_log_y(p, 0, STEPS, lo, hi, "step t", "L(w#dt#u)", "the loss along the way");
    for (int k = 0; k < 2; k++) {
        char legend[32];
        double steps[STEPS + 1];
        for (int t = 0; t <= STEPS; t++)
            steps[t] = t;
        snprintf(legend, sizeof legend, "#gy = %g", etas[k]);
        plot_line(p, STEPS + 1, steps, l[k], colors[k], legend);
    }
    plot_legend(p);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "descent.png",
                   "Gradient descent on L(w) = ½ wᵀAw (eigenvalues 1 and 4.2) from the same start: with η = 0.125 it "
                   "converges to the minimum; with η = 0.5 > 2/4.2 it jumps across the valley, further each time, "
                   "and diverges.");
    lecture_note(run, "After %d steps L = %.2g with η = 0.125 and L = %.2g with η = 0.5, from L = %.2g at the start.",
                 STEPS, l[0][STEPS], l[1][STEPS], l[0][0]);
    return 0;
}
