/*
 * losses.c — the two standard losses of the slide "Fonctions de perte et
 * apprentissage":
 *
 *   mean square error (regression)
 *       L(w) = 1/(ND) sum_n sum_d (f_d(x_n; w) - y_{n,d})^2
 *   cross entropy (classification)
 *       L(w) = 1/N sum_n log( e^{f_{y_n}(x_n; w)} / sum_y e^{f_y(x_n; w)} )
 *
 * The slide's cross-entropy formula lacks its minus sign: as written it is
 * the mean log-probability of the right class, which is negative and which
 * training would maximise. The loss is its opposite, -log softmax, which is
 * what PyTorch's nn.CrossEntropyLoss and profond's pf_cross_entropy compute.
 *
 * Both losses are computed on the 5x2 output that the slide "MLP" prints
 * for its nn.Sequential, three ways: profond's loss functions, the slide's
 * formulas written with ops, and PyTorch's values for the same tensors
 * (constants below, from tests/golden/gen_lecture_basics.py). The figure
 * draws each loss as a function of the prediction.
 */
#include <math.h>

#include "lecture.h"
#include "plot.h"

#define N 5
#define D 2
#define POINTS 241

/* The slide's printout of f(x) for nn.Sequential(Linear(3,9), ReLU,
 * Linear(9,2), ReLU, Linear(2,2)): our predictions f(x_n; w). */
static const float prediction[N * D] = {-0.2195f, -0.4222f, -0.2234f, -0.4257f, -0.2217f,
                                        -0.4241f, -0.2195f, -0.4222f, -0.2465f, -0.4459f};
/* Regression targets y_n, and class targets y_n in {0, 1}. */
static const float regression_target[N * D] = {0.0f, -0.5f, -0.5f, 0.0f, 0.0f, 0.0f, -0.25f, -0.25f, -0.5f, -0.5f};
static const int64_t class_target[N] = {0, 1, 0, 1, 1};

/* PyTorch 1.13, float32, on the same tensors (tests/golden/gen_lecture_basics.py):
 * nn.MSELoss()(prediction, regression_target) and
 * nn.CrossEntropyLoss()(prediction, class_target). */
#define PYTORCH_MSE 0.063874498
#define PYTORCH_CROSS_ENTROPY 0.718164265

/* The loss curves of the figure: the MSE of one prediction f against y = 1,
 * and the cross-entropy of two logits (0, s) for each class, as a function
 * of s, computed per element (reduction none). */
static bool loss_curves(pf_ctx *ctx, double *f, double *mse, double *s, double *ce0, double *ce1)
{
    pf_tensor *fs = pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_arange(ctx, 0, POINTS, 1), 4.0 / (POINTS - 1)), -1);
    pf_tensor *mse_f = pf_mse_loss(ctx, fs, pf_ones(ctx, PF_DIMS(POINTS)), PF_REDUCTION_NONE);

    pf_tensor *ss = pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_arange(ctx, 0, POINTS, 1), 12.0 / (POINTS - 1)), -6);
    pf_tensor *cols[2] = {pf_zeros(ctx, PF_DIMS(POINTS)), ss};
    pf_tensor *logits = pf_stack(ctx, 2, cols, 1); /* [POINTS, 2]: (0, s) */
    pf_tensor *all_0 = pf_to_dtype(ctx, pf_zeros(ctx, PF_DIMS(POINTS)), PF_I64);
    pf_tensor *all_1 = pf_to_dtype(ctx, pf_ones(ctx, PF_DIMS(POINTS)), PF_I64);
    pf_tensor *class0 = pf_cross_entropy(ctx, logits, all_0, PF_REDUCTION_NONE);
    pf_tensor *class1 = pf_cross_entropy(ctx, logits, all_1, PF_REDUCTION_NONE);
    return pf_copy_to_f64(fs, f) && pf_copy_to_f64(mse_f, mse) && pf_copy_to_f64(ss, s) &&
           pf_copy_to_f64(class0, ce0) && pf_copy_to_f64(class1, ce1);
}

static bool draw(lecture_run *run, const double *f, const double *mse, const double *s, const double *ce0,
                 const double *ce1)
{
    double slide1[POINTS]; /* the slide's formula for class 1: +log softmax */
    for (int i = 0; i < POINTS; i++)
        slide1[i] = -ce1[i];
    plot *p = plot_open(lecture_path(run, "losses.png"), 1100, 480);
    plot_panels(p, 2, 1);
    plot_axes(p, -1, 3, 0, 5.5, "prediction f", "loss", "Mean square error (f - y)#u2#d, y = 1");
    plot_line(p, POINTS, f, mse, PLOT_BLUE, "(f - 1)#u2#d");
    plot_legend(p);
    plot_axes(p, -6, 6, -6.5, 11, "s = f#d1#u - f#d0#u (logits (0, s))", "loss",
              "Cross-entropy -log softmax, two classes");
    plot_line(p, POINTS, s, ce1, PLOT_BLUE, "true class 1: log(1 + e#u-s#d)");
    plot_line(p, POINTS, s, ce0, PLOT_RED, "true class 0: log(1 + e#us#d)");
    plot_dashed_line(p, POINTS, s, slide1, PLOT_GREY, "slide's formula (no minus), class 1");
    plot_legend(p);
    return plot_close(p);
}

int lecture_losses(lecture_run *run)
{
    pf_ctx *ctx = pf_ctx_new(0);
    pf_tensor *f = pf_from_f32(ctx, prediction, PF_DIMS(N, D));
    pf_tensor *y = pf_from_f32(ctx, regression_target, PF_DIMS(N, D));
    pf_tensor *c = pf_from_i64(ctx, class_target, PF_DIMS(N));

    /* Mean square error: pf_mse_loss, and the slide's formula with ops. */
    pf_tensor *mse = pf_mse_loss(ctx, f, y, PF_REDUCTION_MEAN);
    pf_tensor *mse_formula = pf_mean(ctx, pf_pow(ctx, pf_sub(ctx, f, y), 2));

    /* Cross-entropy: pf_cross_entropy, and -1/N sum_n log softmax(f(x_n))[y_n]
     * with ops; the slide's formula is the same sum without the minus. */
    pf_tensor *ce = pf_cross_entropy(ctx, f, c, PF_REDUCTION_MEAN);
    pf_tensor *ce_each = pf_cross_entropy(ctx, f, c, PF_REDUCTION_NONE);
    pf_tensor *log_p = pf_gather(ctx, pf_log_softmax(ctx, f, 1), 1, pf_view(ctx, c, PF_DIMS(N, 1)));
    pf_tensor *slide_formula = pf_mean(ctx, log_p);
    pf_tensor *ce_formula = pf_neg(ctx, slide_formula);

    double per_sample[N];
    if (!pf_ok() || !pf_copy_to_f64(ce_each, per_sample)) {
        pf_ctx_free(ctx);
        return lecture_fail(run, "computing the losses");
    }
    double v_mse = pf_item(mse), v_mse_formula = pf_item(mse_formula);
    double v_ce = pf_item(ce), v_ce_formula = pf_item(ce_formula), v_slide = pf_item(slide_formula);

    printf("predictions f(x_n; w), the 5x2 output printed on the slide \"MLP\":\n");
    pf_print(f);
    printf("\nMean square error against y =\n");
    pf_print(y);
    printf("  pf_mse_loss                     %.9f\n", v_mse);
    printf("  1/(ND) sum (f - y)^2 with ops   %.9f\n", v_mse_formula);
    printf("  PyTorch nn.MSELoss()            %.9f   difference %.2g\n", PYTORCH_MSE, fabs(v_mse - PYTORCH_MSE));
    printf("\nCross-entropy with the classes y_n = (0, 1, 0, 1, 1):\n");
    printf("  pf_cross_entropy                %.9f\n", v_ce);
    printf("  -1/N sum log softmax with ops   %.9f\n", v_ce_formula);
    printf("  PyTorch nn.CrossEntropyLoss()   %.9f   difference %.2g\n", PYTORCH_CROSS_ENTROPY,
           fabs(v_ce - PYTORCH_CROSS_ENTROPY));
    printf("  per sample                      ");
    for (int n = 0; n < N; n++)
        printf("%.4f ", per_sample[n]);
    printf("\n  the slide's formula, as written %.9f  (no minus sign: negative, to be maximised)\n", v_slide);

    lecture_number(run, "mse", v_mse);
    lecture_number(run, "mse_formula", v_mse_formula);
    lecture_number(run, "mse_pytorch", PYTORCH_MSE);
    lecture_number(run, "mse_difference", fabs(v_mse - PYTORCH_MSE));
    lecture_number(run, "cross_entropy", v_ce);
    lecture_number(run, "cross_entropy_formula", v_ce_formula);
    lecture_number(run, "cross_entropy_pytorch", PYTORCH_CROSS_ENTROPY);
    lecture_number(run, "cross_entropy_difference", fabs(v_ce - PYTORCH_CROSS_ENTROPY));
    lecture_series(run, "cross_entropy_per_sample", N, per_sample);
    lecture_number(run, "slide_formula_as_written", v_slide);

    double fx[POINTS], mse_curve[POINTS], s[POINTS], ce0[POINTS], ce1[POINTS];
    bool ok = loss_curves(ctx, fx, mse_curve, s, ce0, ce1);
    pf_ctx_free(ctx);
    if (!ok)
        return lecture_fail(run, "computing the loss curves");
    if (!draw(run, fx, mse_curve, s, ce0, ce1))
        return 1;
    lecture_figure(run, "losses.png",
                   "Left: the squared error of one prediction f against the target y = 1. Right: the "
                   "cross-entropy of two logits (0, s) as a function of s, for each true class "
                   "(pf_cross_entropy, reduction none); dashed, the slide's formula without its minus sign.");
    lecture_note(run, "MSE %.6f and cross-entropy %.6f agree with PyTorch's nn.MSELoss and nn.CrossEntropyLoss "
                      "to %.1g and %.1g.",
                 v_mse, v_ce, fabs(v_mse - PYTORCH_MSE), fabs(v_ce - PYTORCH_CROSS_ENTROPY));
    lecture_note(run, "The slide's cross-entropy formula lacks its minus sign: as written it gives %.4f, the mean "
                      "log-probability of the right class. The loss is -log softmax, here %.4f.",
                 v_slide, v_ce);
    return 0;
}
