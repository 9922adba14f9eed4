/*
 * autograd.c — the slide "Différentiation automatique et optimisation":
 * "PyTorch enregistre dynamiquement les séquences de calculs tensoriels et
 * permet de calculer n'importe quel gradient."
 *
 *     >>> t = torch.tensor([1., 2., 4.]).requires_grad_()
 *     >>> a = t.pow(2).sum()
 *     >>> torch.autograd.grad(a, (t,))
 *     (tensor([2., 4., 8.]),)
 *
 * and a two-layer network with a squared-error loss:
 *
 *     w1 = torch.rand(20, 10).requires_grad_()    b1 = torch.rand(20)...
 *     w2 = torch.rand(5, 20).requires_grad_()     b2 = torch.rand(5)...
 *     x = torch.rand(10)
 *     h = torch.tanh(w1 @ x + b1)
 *     y = torch.tanh(w2 @ h + b2)
 *     target = torch.rand(5)
 *     loss = (y - target).pow(2).mean()
 *
 * profond does the same with pf_grad. The network's tensors come from
 * PyTorch (data/autograd_net.safetensors beside this file, written by
 * tests/golden/gen_lecture_basics.py with torch.manual_seed(0)) together
 * with PyTorch's gradients, and the program prints how far profond's
 * gradients are from them. Two cases:
 *   slide     the slide's code exactly. With every weight in [0, 1), the
 *             pre-activations of y are about 10 and tanh saturates: y is
 *             1.0 in float32 and every gradient is exactly 0, in PyTorch
 *             and in profond alike;
 *   centered  the same code with weights and biases in [-0.5, 0.5)
 *             (torch.rand(...) - 0.5), where the gradients are not trivial.
 */
#include <math.h>
#include <string.h>

#include "lecture.h"
#include "plot.h"

#define NET_FILE "autograd_net.safetensors"

static const char *const names[4] = {"w1", "b1", "w2", "b2"};

/* data/NET_FILE in the folder of this source file. */
static const char *net_path(char *buf, size_t n)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__) : 1;
    snprintf(buf, n, "%.*s/data/" NET_FILE, dir, slash ? __FILE__ : ".");
    return buf;
}

/* ---- the first slide: the gradient of sum(t^2) ---- */
static int sum_of_squares(lecture_run *run, pf_ctx *ctx)
{
    pf_tensor *t = pf_requires_grad(pf_from_f32(ctx, (const float[]){1, 2, 4}, PF_DIMS(3)), true);
    pf_tensor *a = pf_sum(ctx, pf_pow(ctx, t, 2));
    pf_tensor *grad = NULL;
    double g[3];
    if (!pf_grad(ctx, a, 1, &t, &grad) || !pf_copy_to_f64(grad, g))
        return lecture_fail(run, "the gradient of sum(t^2)");
    char text[128];
    pf_format(grad, text, sizeof text);
    printf(">>> t = torch.tensor([1., 2., 4.]).requires_grad_()\n>>> a = t.pow(2).sum()\n"
           ">>> torch.autograd.grad(a, (t,))\n(%s,)\n",
           text);
    lecture_series(run, "grad_sum_of_squares", 3, g);
    lecture_note(run, "The gradient of a = Σ t² at t = (1, 2, 4) is %s, as on the slide.", text);
    return 0;
}

/* ---- the network ---- */
typedef struct network_result {
    double max_grad[4];       /* max |PyTorch's gradient| per tensor */
    double max_difference[4]; /* max |profond's - PyTorch's| per tensor */
    double loss, loss_torch;
    double min_preactivation; /* min over w2 h + b2 */
    int n;                    /* gradient values kept for the figure */
    double ours[325], theirs[325];
} network_result;

static pf_tensor *get(lecture_run *run, const pf_named_tensor *list, int n, const char *the_case, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", the_case, what);
    pf_tensor *t = pf_named_find(list, n, name);
    if (!t)
        fprintf(stderr, "lecture %s: %s has no tensor %s\n", run->name, NET_FILE, name);
    return t;
}

static bool network(lecture_run *run, pf_ctx *ctx, const pf_named_tensor *file, int n_file, const char *the_case,
                    network_result *r)
{
    pf_tensor *p[4], *torch_grad[4];
    for (int i = 0; i < 4; i++) {
        char gname[16];
        snprintf(gname, sizeof gname, "grad_%s", names[i]);
        p[i] = get(run, file, n_file, the_case, names[i]);
        torch_grad[i] = get(run, file, n_file, the_case, gname);
        if (!p[i] || !torch_grad[i])
            return false;
        pf_requires_grad(p[i], true);
    }
    pf_tensor *w1 = p[0], *b1 = p[1], *w2 = p[2], *b2 = p[3];
    pf_tensor *x = get(run, file, n_file, the_case, "x"), *target = get(run, file, n_file, the_case, "target");
    pf_tensor *torch_loss = get(run, file, n_file, the_case, "loss");
    if (!x || !target || !torch_loss)
        return false;

    /* The slide's code. */
    pf_tensor *h = pf_tanh(ctx, pf_add(ctx, pf_matmul(ctx, w1, x), b1));
    pf_tensor *z = pf_add(ctx, pf_matmul(ctx, w2, h), b2);
    pf_tensor *y = pf_tanh(ctx, z);
    pf_tensor *loss = pf_mean(ctx, pf_pow(ctx, pf_sub(ctx, y, target), 2));

    pf_tensor *grads[4];
    if (!pf_grad(ctx, loss, 4, p, grads))
        return false;
    r->loss = pf_item(loss);
    r->loss_torch = pf_item(torch_loss);
    r->min_preactivation = pf_item(pf_neg(ctx, pf_max_dim(ctx, pf_neg(ctx, z), 0, false, NULL)));
    r->n = 0;
    for (int i = 0; i < 4; i++) {
        int64_t m = pf_numel(grads[i]);
        if (m != pf_numel(torch_grad[i]) || r->n + m > 325) {
            pf_fail("%s.grad_%s has %lld values, expected %lld", the_case, names[i],
                    (long long)pf_numel(torch_grad[i]), (long long)m);
            return false;
        }
        if (!pf_copy_to_f64(grads[i], r->ours + r->n) || !pf_copy_to_f64(torch_grad[i], r->theirs + r->n))
            return false;
        r->max_grad[i] = r->max_difference[i] = 0;
        for (int64_t k = r->n; k < r->n + m; k++) {
            r->max_grad[i] = fmax(r->max_grad[i], fabs(r->theirs[k]));
            r->max_difference[i] = fmax(r->max_difference[i], fabs(r->ours[k] - r->theirs[k]));
        }
        r->n += (int)m;
    }
    return pf_ok();
}

static void report(lecture_run *run, const char *the_case, const char *title, const network_result *r)
{
    printf("\n%s\n", title);
    printf("  loss %.8f   PyTorch %.8f   min of w2 h + b2: %.2f\n", r->loss, r->loss_torch, r->min_preactivation);
    printf("  tensor   max |grad| (PyTorch)   max |profond - PyTorch|\n");
    char key[96];
    for (int i = 0; i < 4; i++) {
        printf("  %-8s %20.3g %25.3g\n", names[i], r->max_grad[i], r->max_difference[i]);
        snprintf(key, sizeof key, "%s_max_abs_grad_%s", the_case, names[i]);
        lecture_number(run, key, r->max_grad[i]);
        snprintf(key, sizeof key, "%s_max_difference_%s", the_case, names[i]);
        lecture_number(run, key, r->max_difference[i]);
    }
    snprintf(key, sizeof key, "%s_loss", the_case);
    lecture_number(run, key, r->loss);
    snprintf(key, sizeof key, "%s_loss_difference", the_case);
    lecture_number(run, key, fabs(r->loss - r->loss_torch));
    snprintf(key, sizeof key, "%s_min_preactivation", the_case);
    lecture_number(run, key, r->min_preactivation);
}

static bool draw(lecture_run *run, const network_result *r)
{
    static const int sizes[4] = {200, 20, 100, 5}, colors[4] = {PLOT_BLUE, PLOT_ORANGE, PLOT_GREEN, PLOT_RED};
    static const char *legends[4] = {"w1 (200 values)", "b1 (20)", "w2 (100)", "b2 (5)"};
    double lo = 0, hi = 0;
    for (int k = 0; k < r->n; k++) {
        lo = fmin(lo, r->theirs[k]);
        hi = fmax(hi, r->theirs[k]);
    }
    double margin = 0.05 * (hi - lo), diag[2] = {lo - margin, hi + margin};
    plot *p = plot_open(lecture_path(run, "autograd.png"), 700, 650);
    plot_axes(p, diag[0], diag[1], diag[0], diag[1] + 0.5 * (hi - lo), "PyTorch's gradient",
              "profond's gradient (pf_grad)", "Gradients of the loss, centered network: profond vs PyTorch");
    plot_dashed_line(p, 2, diag, diag, PLOT_GREY, "y = x");
    for (int i = 0, at = 0; i < 4; at += sizes[i], i++)
        plot_points(p, sizes[i], r->theirs + at, r->ours + at, colors[i], 2, legends[i]);
    plot_legend(p);
    return plot_close(p);
}

int lecture_autograd(lecture_run *run)
{
    pf_ctx *ctx = pf_ctx_new(0);
    int status = sum_of_squares(run, ctx);
    if (status) {
        pf_ctx_free(ctx);
        return status;
    }

    char path[1200];
    net_path(path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr,
                "lecture autograd: cannot open %s: the network's tensors and PyTorch's gradients come with the "
                "source tree (examples/lecture/data/" NET_FILE ", written by "
                "tests/golden/gen_lecture_basics.py)\n",
                path);
        pf_ctx_free(ctx);
        return 1;
    }
    fclose(f);
    pf_named_tensor *file;
    int n_file = pf_safetensors_load(ctx, path, &file);
    static network_result slide, centered;
    if (n_file < 0 || !network(run, ctx, file, n_file, "slide", &slide) ||
        !network(run, ctx, file, n_file, "centered", &centered)) {
        pf_ctx_free(ctx);
        return lecture_fail(run, "the network");
    }
    pf_ctx_free(ctx);

    report(run, "slide", "The slide's network (every tensor from torch.rand, seed 0):", &slide);
    printf("  tanh saturates: y = tanh(w2 h + b2) is 1.0 in float32, so every gradient is exactly 0.\n");
    report(run, "centered", "The same network with weights and biases in [-0.5, 0.5):", &centered);
    double worst = 0;
    for (int i = 0; i < 4; i++)
        worst = fmax(worst, fmax(slide.max_difference[i], centered.max_difference[i]));
    printf("\nlargest difference from PyTorch's gradients: %.3g\n", worst);
    lecture_number(run, "max_gradient_difference", worst);

    if (!draw(run, &centered))
        return 1;
    lecture_figure(run, "autograd.png",
                   "Each of the 325 partial derivatives of the centered network's loss: profond's (pf_grad) "
                   "against PyTorch's. They lie on the diagonal.");
    lecture_note(run, "The network's gradients equal PyTorch's to %.1g (largest absolute difference over w1, b1, "
                      "w2, b2).",
                 worst);
    lecture_note(run, "With the slide's torch.rand weights (all positive), w2 h + b2 is at least %.1f, y = tanh(·) "
                      "rounds to 1 in float32 and every gradient is exactly 0, in PyTorch as in profond: a "
                      "saturated network does not learn. Centering the weights on 0 gives gradients up to %.2f.",
                 slide.min_preactivation, fmax(fmax(centered.max_grad[0], centered.max_grad[1]),
                                              fmax(centered.max_grad[2], centered.max_grad[3])));
    return 0;
}
