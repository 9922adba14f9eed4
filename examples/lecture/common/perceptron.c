/*
 * perceptron.c — the perceptron of perceptron.h: its training loop is the
 * lecture's (forward, loss, zero_grad, backward, step), written with
 * profond's ops, autograd and SGD optimizer.
 */
#include <string.h>

#include <profond.h>

#include "perceptron.h"

void points_add(points *s, double u, double v, int label)
{
    if (s->n == POINTS_MAX)
        return;
    s->u[s->n] = u;
    s->v[s->n] = v;
    s->label[s->n] = label;
    s->n++;
}

static int features(const perceptron *m, double u, double v, float *out)
{
    if (m->phi)
        return m->phi(u, v, out);
    out[0] = (float)u;
    out[1] = (float)v;
    return 2;
}

bool perceptron_train(perceptron *m, const points *s, int steps, double lr)
{
    /* The features Φ(x) as an [n, d] matrix, the labels as [n, 1]. */
    float x[POINTS_MAX * FEATURES_MAX], y[POINTS_MAX];
    int d = features(m, 0, 0, x);
    if (d < 1 || d > FEATURES_MAX || s->n < 1) {
        pf_fail("perceptron_train: %d features (1 to %d expected) of %d points", d, FEATURES_MAX, s->n);
        return false;
    }
    for (int i = 0; i < s->n; i++) {
        features(m, s->u[i], s->v[i], x + (size_t)i * (size_t)d);
        y[i] = (float)s->label[i];
    }
    pf_ctx *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_tensor *input = pf_from_f32(params, x, PF_DIMS(s->n, d));
    pf_tensor *target = pf_from_f32(params, y, PF_DIMS(s->n, 1));
    pf_tensor *w = pf_requires_grad(pf_zeros(params, PF_DIMS(1, d)), true);
    pf_tensor *b = pf_requires_grad(pf_zeros(params, PF_DIMS(1)), true);
    pf_optim *opt = pf_optim_sgd(params, 2, (pf_tensor *[]){w, b}, (pf_sgd_opts){.lr = lr});
    for (int t = 0; t < steps && pf_ok(); t++) {
        pf_ctx_reset(step);
        pf_tensor *logit = pf_linear(step, input, w, b); /* w·Φ(x) + b, [n, 1] */
        pf_tensor *loss = pf_bce_with_logits(step, logit, target, PF_REDUCTION_MEAN);
        pf_optim_zero_grad(opt);
        pf_backward(loss);
        pf_optim_step(opt);
    }
    bool ok = pf_ok() && pf_copy_to_f32(w, m->w) && pf_copy_to_f32(b, &m->b);
    m->d = ok ? d : 0;
    pf_ctx_free(step);
    pf_ctx_free(params);
    return ok;
}

double perceptron_score(const perceptron *m, double u, double v)
{
    float f[FEATURES_MAX];
    int d = features(m, u, v, f);
    double z = m->b;
    for (int k = 0; k < d && k < m->d; k++)
        z += (double)m->w[k] * f[k];
    return z;
}

double perceptron_accuracy(const perceptron *m, const points *s)
{
    int right = 0;
    for (int i = 0; i < s->n; i++)
        right += (perceptron_score(m, s->u[i], s->v[i]) > 0) == (s->label[i] == 1);
    return s->n ? (double)right / s->n : 0;
}

#define GRID 201

void perceptron_panel(plot *p, const perceptron *m, const points *s, double lo, double hi, const char *title)
{
    static double z[GRID * GRID];
    for (int i = 0; i < GRID; i++)
        for (int j = 0; j < GRID; j++)
            z[i * GRID + j] = perceptron_score(m, lo + (hi - lo) * i / (GRID - 1), lo + (hi - lo) * j / (GRID - 1));
    plot_axes(p, lo, hi, lo, hi, "x#du#u", "x#dv#u", title);
    plot_regions(p, GRID, GRID, z, PLOT_RED, PLOT_BLUE);
    plot_contour(p, GRID, GRID, z, 1, (const double[]){0}, PLOT_BLACK);

    double u[POINTS_MAX], v[POINTS_MAX];
    for (int c = 0; c < 2; c++) {
        int n = 0;
        for (int i = 0; i < s->n; i++)
            if (s->label[i] == c) {
                u[n] = s->u[i];
                v[n++] = s->v[i];
            }
        plot_points(p, n, u, v, c ? PLOT_RED : PLOT_BLUE, c ? 1 : 2, c ? "class 1" : "class 0");
    }
    plot_legend(p);
}
