/*
 * xor.c — slide "ou exclusif": a perceptron σ(w·x + b) cannot compute the
 * "exclusive or" of the signs of x_u and x_v (no line separates the four
 * corners), but
 *
 *     "Le 'ou exclusif' peut être calculé en pré-traitant l'entrée pour rendre
 *      les données linéairement séparables"
 *
 *     Φ : (x_u, x_v) ↦ (x_u, x_v, x_u x_v).
 *
 * Data: four noisy clusters around the corners (±1, ±1); class 1 where
 * exactly one coordinate is positive (x_u x_v < 0). Two perceptrons are
 * trained the same way (gradient descent on the logistic loss,
 * common/perceptron.c): one on x, one on Φ(x). The first stays near chance;
 * the second classifies every point, and its boundary w·Φ(x) + b = 0, drawn
 * in the original plane, is a hyperbola.
 */
#include "lecture.h"
#include "perceptron.h"
#include "plot.h"

/* The slide's Φ : (x_u, x_v) ↦ (x_u, x_v, x_u x_v). */
static int phi(double u, double v, float *out)
{
    out[0] = (float)u;
    out[1] = (float)v;
    out[2] = (float)(u * v);
    return 3;
}

int lecture_xor(lecture_run *run)
{
    const int n = run->quick ? 25 : 60;       /* points per corner */
    const int steps = run->quick ? 300 : 1000; /* gradient steps */
    const double lr = 1.0;
    pf_rng *rng = pf_default_rng();

    /* Around each corner, uniform noise in [-0.6, 0.6]²: no point comes
     * closer than 0.4 to an axis, so the sign of x_u x_v is the corner's. */
    static points data;
    data.n = 0;
    for (int i = 0; i < n; i++)
        for (int corner = 0; corner < 4; corner++) {
            double su = corner & 1 ? 1 : -1, sv = corner & 2 ? 1 : -1;
            double u = su + 1.2 * (pf_rng_uniform(rng) - 0.5), v = sv + 1.2 * (pf_rng_uniform(rng) - 0.5);
            points_add(&data, u, v, su * sv < 0);
        }

    perceptron linear = {0}, with_phi = {.phi = phi};
    if (!perceptron_train(&linear, &data, steps, lr) || !perceptron_train(&with_phi, &data, steps, lr))
        return lecture_fail(run, "training the perceptrons");
    double acc_linear = perceptron_accuracy(&linear, &data), acc_phi = perceptron_accuracy(&with_phi, &data);

    printf("\"ou exclusif\": %d points around the four corners (+-1, +-1), class 1 where xu*xv < 0\n", data.n);
    printf("  sigma(w.x + b):      w = (%.3f, %.3f), b = %.3f, training accuracy %.1f%%\n", linear.w[0],
           linear.w[1], linear.b, 100 * acc_linear);
    printf("  sigma(w.Phi(x) + b): w = (%.3f, %.3f, %.3f), b = %.3f, training accuracy %.1f%%\n", with_phi.w[0],
           with_phi.w[1], with_phi.w[2], with_phi.b, 100 * acc_phi);
    lecture_number(run, "accuracy_linear", acc_linear);
    lecture_number(run, "accuracy_phi", acc_phi);

    plot *p = plot_open(lecture_path(run, "xor.png"), 1100, 540);
    if (!p)
        return 1;
    plot_panels(p, 2, 1);
    char title[2][128];
    snprintf(title[0], sizeof title[0], "linear: #gs(w#u#fiT#fn#dx + b), %.0f%% correct", 100 * acc_linear);
    snprintf(title[1], sizeof title[1], "after #gF(x) = (x#du#u, x#dv#u, x#du#ux#dv#u): %.0f%% correct",
             100 * acc_phi);
    perceptron_panel(p, &linear, &data, -2.5, 2.5, title[0]);
    perceptron_panel(p, &with_phi, &data, -2.5, 2.5, title[1]);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "xor.png",
                   "The \"exclusive or\": a perceptron on (x_u, x_v) cannot separate the classes (left); on "
                   "Φ(x) = (x_u, x_v, x_u x_v) it can, and its boundary in the plane becomes a hyperbola (right).");
    lecture_note(run,
                 "Training accuracy %.0f%% with a linear model, %.0f%% after the pre-processing "
                 "Φ(x_u, x_v) = (x_u, x_v, x_u x_v).",
                 100 * acc_linear, 100 * acc_phi);
    return 0;
}
