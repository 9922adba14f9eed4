/*
 * separable.c — slide "Modèles linéaires": a perceptron
 *
 *     f(x) = σ(w·x + b),    w ∈ R², b ∈ R,
 *
 * "ne peut classer correctement que des populations linéairement
 * séparables". The program trains one (gradient descent on the logistic
 * loss, with profond's autograd: common/perceptron.c) on two pairs of 2-D
 * populations:
 *
 *   - two Gaussian clouds whose samples are kept within 2.5 σ of their
 *     means, far enough apart to be separable by a line: the perceptron
 *     classifies every training point correctly (100%);
 *   - a Gaussian cloud inside a ring of the other class: no line separates
 *     them, and the perceptron's training accuracy stays far below 100%.
 *
 * The figure shows, for each, the points coloured by class over the
 * perceptron's decision regions and its boundary w·x + b = 0.
 */
#include <math.h>

#include "lecture.h"
#include "perceptron.h"
#include "plot.h"

#define PI 3.14159265358979323846

/* A point of N(mean, sigma² I), drawn again until it lies within 2.5 sigma
 * of the mean. */
static void gaussian_point(pf_rng *rng, double mu, double mv, double sigma, double *u, double *v)
{
    do {
        *u = pf_rng_normal(rng);
        *v = pf_rng_normal(rng);
    } while ((*u) * (*u) + (*v) * (*v) > 2.5 * 2.5);
    *u = mu + sigma * (*u);
    *v = mv + sigma * (*v);
}

int lecture_separable(lecture_run *run)
{
    const int n = run->quick ? 50 : 150;      /* points per class */
    const int steps = run->quick ? 300 : 1000; /* gradient steps */
    const double lr = 1.0;
    pf_rng *rng = pf_default_rng();

    /* Two clouds 2.24 apart, each within a disc of radius 2.5 σ = 0.875:
     * a line separates them. */
    static points separable, ring;
    separable.n = ring.n = 0;
    for (int i = 0; i < n; i++) {
        double u, v;
        gaussian_point(rng, -1.0, -0.5, 0.35, &u, &v);
        points_add(&separable, u, v, 0);
        gaussian_point(rng, 1.0, 0.5, 0.35, &u, &v);
        points_add(&separable, u, v, 1);
    }
    /* A cloud at the origin (class 0) inside a ring of radius 2 (class 1). */
    for (int i = 0; i < n; i++) {
        double u, v;
        gaussian_point(rng, 0, 0, 0.4, &u, &v);
        points_add(&ring, u, v, 0);
        double angle = 2 * PI * pf_rng_uniform(rng), radius = 2 + 0.2 * pf_rng_normal(rng);
        points_add(&ring, radius * cos(angle), radius * sin(angle), 1);
    }

    perceptron on_separable = {0}, on_ring = {0};
    if (!perceptron_train(&on_separable, &separable, steps, lr) || !perceptron_train(&on_ring, &ring, steps, lr))
        return lecture_fail(run, "training the perceptron");
    double acc_separable = perceptron_accuracy(&on_separable, &separable);
    double acc_ring = perceptron_accuracy(&on_ring, &ring);

    printf("perceptron f(x) = sigma(w.x + b), %d gradient steps (lr %g) on the logistic loss, %d points per class\n",
           steps, lr, n);
    printf("  separable clouds: w = (%.3f, %.3f), b = %.3f, training accuracy %.1f%%\n", on_separable.w[0],
           on_separable.w[1], on_separable.b, 100 * acc_separable);
    printf("  cloud in a ring:  w = (%.3f, %.3f), b = %.3f, training accuracy %.1f%%  (no line separates them)\n",
           on_ring.w[0], on_ring.w[1], on_ring.b, 100 * acc_ring);
    lecture_number(run, "accuracy_separable", acc_separable);
    lecture_number(run, "accuracy_not_separable", acc_ring);

    plot *p = plot_open(lecture_path(run, "separable.png"), 1100, 540);
    if (!p)
        return 1;
    plot_panels(p, 2, 1);
    char title[2][128];
    snprintf(title[0], sizeof title[0], "linearly separable: %.0f%% correct", 100 * acc_separable);
    snprintf(title[1], sizeof title[1], "not linearly separable: %.0f%% correct", 100 * acc_ring);
    perceptron_panel(p, &on_separable, &separable, -3, 3, title[0]);
    perceptron_panel(p, &on_ring, &ring, -3, 3, title[1]);
    if (!plot_close(p))
        return 1;
    lecture_figure(run, "separable.png",
                   "A perceptron σ(w·x + b) trained by gradient descent on two populations: separable by a line "
                   "(left), it classifies every point; a cloud inside a ring (right), no line can.");
    lecture_note(run,
                 "Training accuracy %.0f%% on the separable populations and %.0f%% on the cloud inside a ring: "
                 "a perceptron only classifies linearly separable populations correctly.",
                 100 * acc_separable, 100 * acc_ring);
    return 0;
}
