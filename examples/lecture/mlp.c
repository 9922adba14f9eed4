/*
 * mlp.c — the slide "MLP": a linear model and a multi-layer perceptron in
 * a few lines, as the slide writes them in PyTorch,
 *
 *     >>> f = nn.Linear(3, 1)
 *     >>> x = torch.empty(5, 3).normal_()
 *     >>> f(x)
 *     >>> for t in f.parameters(): print(t.size())
 *     torch.Size([1, 3])
 *     torch.Size([1])
 *
 *     >>> f = nn.Sequential(nn.Linear(3, 9), nn.ReLU(),
 *     ...                   nn.Linear(9, 2), nn.ReLU(),
 *     ...                   nn.Linear(2, 2))
 *     torch.Size([9, 3]) ... torch.Size([2])
 *
 * here with profond's modules (pf_nn_linear, pf_nn_relu, pf_nn_sequential):
 * the program prints the outputs and the parameter shapes in the slide's
 * format. The figure draws the MLP's hidden units and outputs along a line
 * through its input space: a ReLU network is a piecewise-linear function.
 */
#include <math.h>
#include <string.h>

#include "lecture.h"
#include "plot.h"

#define POINTS 401

/* "torch.Size([9, 3])" for a tensor, as the slide prints t.size(). */
static void print_size(const pf_tensor *t)
{
    printf("torch.Size([");
    for (int d = 0; d < t->ndim; d++)
        printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
    printf("])\n");
}

/* Prints the parameter shapes as the slide does and records them as one
 * text, "[9,3] [9] [2,9] ...", also left in text (n bytes). Returns the
 * number of parameter tensors or -1. */
static int parameter_shapes(lecture_run *run, pf_module *f, const char *key, char *text, size_t n)
{
    pf_named_tensor *params;
    int count = pf_module_parameters(f, &params);
    if (count < 0)
        return -1;
    char shape[64];
    text[0] = 0;
    printf(">>> for t in f.parameters(): print(t.size())\n...\n");
    for (int i = 0; i < count; i++) {
        print_size(params[i].tensor);
        pf_shape_str(params[i].tensor, shape, sizeof shape);
        if (i)
            strncat(text, " ", n - strlen(text) - 1);
        strncat(text, shape, n - strlen(text) - 1);
    }
    lecture_text(run, key, text);
    return count;
}

/* Along the line x(t) = t u, t in [-4, 4], u a random unit vector of R^3:
 * the 9 hidden units ReLU(Linear(3,9)(x)) and the two outputs of f. */
static bool along_line(pf_ctx *ctx, pf_module *f, double *t, double *hidden, double *out)
{
    pf_tensor *u = pf_randn(ctx, PF_DIMS(1, 3));
    u = pf_div(ctx, u, pf_sqrt(ctx, pf_sum(ctx, pf_pow(ctx, u, 2))));
    pf_tensor *ts = pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_arange(ctx, 0, POINTS, 1), 8.0 / (POINTS - 1)), -4);
    pf_tensor *x = pf_matmul(ctx, pf_view(ctx, ts, PF_DIMS(POINTS, 1)), u); /* [POINTS, 3] */
    pf_tensor *h = pf_relu(ctx, pf_forward(ctx, pf_module_child(f, 0), x));
    pf_tensor *y = pf_forward(ctx, f, x);
    /* Transposed: one row per unit, POINTS values each. */
    return pf_copy_to_f64(ts, t) && pf_copy_to_f64(pf_transpose(ctx, h, 0, 1), hidden) &&
           pf_copy_to_f64(pf_transpose(ctx, y, 0, 1), out);
}

static void range_of(int n, const double *v, double *lo, double *hi)
{
    *lo = *hi = v[0];
    for (int i = 1; i < n; i++) {
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
}

static bool draw(lecture_run *run, const double *t, const double *hidden, const double *out)
{
    double lo, hi;
    plot *p = plot_open(lecture_path(run, "mlp.png"), 1100, 480);
    plot_panels(p, 2, 1);
    range_of(9 * POINTS, hidden, &lo, &hi);
    plot_axes(p, -4, 4, 0, 1.05 * hi + 1e-3, "t (input x = t u, u a random unit vector of R#u3#d)", "unit",
              "The 9 hidden units ReLU(Linear(3, 9)(x))");
    for (int k = 0; k < 9; k++)
        plot_line(p, POINTS, t, hidden + k * POINTS, k % (PLOT_COLORS - 1) + 1, NULL);
    /* The outputs vary little around their value at 0: draw f(t u) - f(0). */
    static double change[2 * POINTS];
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < POINTS; i++)
            change[j * POINTS + i] = out[j * POINTS + i] - out[j * POINTS + POINTS / 2];
    range_of(2 * POINTS, change, &lo, &hi);
    double margin = 0.1 * (hi - lo) + 1e-3;
    plot_axes(p, -4, 4, lo - margin, hi + 4 * margin, "t (input x = t u)", "f(t u) - f(0)",
              "The MLP's two outputs: piecewise linear");
    plot_line(p, POINTS, t, change, PLOT_BLUE, "f#d1#u(t u) - f#d1#u(0)");
    plot_line(p, POINTS, t, change + POINTS, PLOT_RED, "f#d2#u(t u) - f#d2#u(0)");
    plot_legend(p);
    return plot_close(p);
}

int lecture_mlp(lecture_run *run)
{
    pf_ctx *params = pf_ctx_new(0), *ctx = pf_ctx_new(0);
    char shape[64], linear_shapes[256], mlp_shapes[256];

    /* f : R^3 -> R, x -> w^T x + b */
    printf(">>> f = nn.Linear(3, 1)\n>>> x = torch.empty(5, 3).normal_()\n>>> f(x)\n");
    pf_module *linear = pf_nn_linear(params, 3, 1, true);
    pf_tensor *x = pf_randn(ctx, PF_DIMS(5, 3));
    pf_tensor *y = pf_forward(ctx, linear, x);
    if (!y)
        goto fail;
    pf_print(y);
    lecture_text(run, "linear_output_shape", pf_shape_str(y, shape, sizeof shape));
    if (parameter_shapes(run, linear, "linear_parameter_shapes", linear_shapes, sizeof linear_shapes) < 0)
        goto fail;
    lecture_number(run, "linear_parameter_count", (double)pf_module_num_parameters(linear));

    /* The MLP. */
    printf("\n>>> f = nn.Sequential(nn.Linear(3, 9), nn.ReLU(),\n"
           "...                   nn.Linear(9, 2), nn.ReLU(),\n"
           "...                   nn.Linear(2, 2))\n");
    pf_module *mlp = pf_nn_sequential(params, PF_LAYERS(pf_nn_linear(params, 3, 9, true), pf_nn_relu(params),
                                                        pf_nn_linear(params, 9, 2, true), pf_nn_relu(params),
                                                        pf_nn_linear(params, 2, 2, true)));
    if (!mlp)
        goto fail;
    printf(">>> f\n");
    pf_module_fprint(stdout, mlp);
    printf(">>> x = torch.empty(5, 3).normal_()\n>>> f(x)\n");
    x = pf_randn(ctx, PF_DIMS(5, 3));
    y = pf_forward(ctx, mlp, x);
    if (!y)
        goto fail;
    pf_print(y);
    lecture_text(run, "sequential_output_shape", pf_shape_str(y, shape, sizeof shape));
    if (parameter_shapes(run, mlp, "sequential_parameter_shapes", mlp_shapes, sizeof mlp_shapes) < 0)
        goto fail;
    int64_t count = pf_module_num_parameters(mlp);
    printf("%lld parameters in all (3*9 + 9 + 9*2 + 2 + 2*2 + 2)\n", (long long)count);
    lecture_number(run, "sequential_parameter_count", (double)count);

    static double t[POINTS], hidden[9 * POINTS], out[2 * POINTS];
    if (!along_line(ctx, mlp, t, hidden, out))
        goto fail;
    pf_ctx_free(ctx);
    pf_ctx_free(params);
    if (!draw(run, t, hidden, out))
        return 1;
    lecture_figure(run, "mlp.png",
                   "The untrained MLP Linear(3,9), ReLU, Linear(9,2), ReLU, Linear(2,2) along a line through its "
                   "input space. Left: its 9 hidden units, each 0 on one side of a plane and linear on the "
                   "other. Right: its two outputs (minus their value at x = 0), straight pieces joined where a unit "
                   "switches.");
    lecture_note(run, "Parameter shapes: %s for Linear(3,1); %s (%lld parameters) for the MLP. The slide "
                      "prints [1,3] [1] and [9,3] [9] [2,9] [2] [2,2] [2].",
                 linear_shapes, mlp_shapes, (long long)count);
    return 0;

fail:
    pf_ctx_free(ctx);
    pf_ctx_free(params);
    return lecture_fail(run, "running the MLP");
}
