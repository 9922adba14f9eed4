/*
 * perceptron.h — the slide's perceptron f(x) = σ(w·x + b) on points of the
 * plane, for the experiments `separable` and `xor`: labelled 2-D points,
 * training by gradient descent on the logistic loss (profond's ops and
 * autograd), accuracy, and a figure panel of the decision regions.
 *
 * The perceptron may first map a point (xu, xv) to features Φ(xu, xv) (the
 * "ou exclusif" slide); with no Φ the features are (xu, xv) themselves.
 * It answers class 1 where w·Φ(x) + b > 0 (σ > 1/2), class 0 elsewhere.
 */
#ifndef PF_LECTURE_PERCEPTRON_H
#define PF_LECTURE_PERCEPTRON_H

#include <stdbool.h>

#include "plot.h"

#define POINTS_MAX 512
#define FEATURES_MAX 8

/* n points (u[i], v[i]) of the plane with labels 0 or 1. */
typedef struct points {
    int n;
    double u[POINTS_MAX], v[POINTS_MAX];
    int label[POINTS_MAX];
} points;

/* Adds a point (ignored when the set is full). */
void points_add(points *s, double u, double v, int label);

/* Writes the features of (u, v) into out and returns their number (at most
 * FEATURES_MAX). */
typedef int (*perceptron_features)(double u, double v, float *out);

typedef struct perceptron {
    perceptron_features phi;  /* NULL: the features are (u, v) */
    int d;                    /* number of features, set by training */
    float w[FEATURES_MAX];
    float b;
} perceptron;

/* Trains m (from w = 0, b = 0) by `steps` steps of full-batch gradient
 * descent with learning rate lr on the logistic loss
 * mean(-y log σ(w·Φ(x)+b) - (1-y) log(1 - σ(w·Φ(x)+b))). False, with
 * pf_error() saying why, if an operation failed. */
bool perceptron_train(perceptron *m, const points *s, int steps, double lr);
/* w·Φ(u, v) + b: positive for class 1. */
double perceptron_score(const perceptron *m, double u, double v);
/* The fraction of the points that m classifies correctly. */
double perceptron_accuracy(const perceptron *m, const points *s);

/* A panel of a figure: on [lo, hi]², the decision regions of m (light red:
 * class 1, light blue: class 0), its boundary w·Φ(x) + b = 0, and the points
 * coloured by class, with a legend. */
void perceptron_panel(plot *p, const perceptron *m, const points *s, double lo, double hi, const char *title);

#endif
