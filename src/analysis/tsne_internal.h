/*
 * tsne_internal.h — the parts of t-SNE (tsne.c), its quadtree
 * (tsne_tree.c) and the exact neighbour search (knn.c), as the library and
 * the tests see them. Arrays are plain C arrays, row-major; point indices
 * are int32 (pf_tsne accepts at most TSNE_MAX_POINTS points).
 */
#ifndef PF_ANALYSIS_TSNE_INTERNAL_H
#define PF_ANALYSIS_TSNE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "profond.h"

#define TSNE_MAX_POINTS (1 << 26)

/* ---- knn.c ---------------------------------------------------------------
 * The k nearest neighbours of every row of x [n, d] among the other rows
 * (1 <= k <= n - 1), by squared Euclidean distance: index [n, k] and dist2
 * [n, k], each row by increasing distance (the smaller index first on a
 * tie). Candidates come from BLAS products of blocks of rows (|a|² + |b|² -
 * 2 a·b in float), then their distances are recomputed exactly in double
 * and ranked: the result does not depend on the thread count. Cost
 * O(n² d) in BLAS; memory one block of distances per thread. False with an
 * error (named `op`) on out-of-memory. */
bool pf_knn_search(const char *op, const float *x, int64_t n, int64_t d, int k, int32_t *index, double *dist2);

/* ---- tsne.c --------------------------------------------------------------
 * The input affinities as a sparse symmetric matrix in CSR form: row i has
 * the entries col[row[i]] .. col[row[i+1]-1] (increasing), values val. */
typedef struct tsne_sparse {
    int64_t n;
    int64_t *row;   /* n + 1 */
    int32_t *col;
    double *val;
} tsne_sparse;
void tsne_sparse_free(tsne_sparse *p);

/* The conditional probabilities p_{j|i} ∝ exp(-beta_i d²_ij) of each row of
 * dist2 [n, k] (a row's squared distances to its k neighbours, any order),
 * beta_i found by bisection so that the entropy -Σ_j p log p of the row is
 * log(perplexity) (natural logarithms) within 1e-5, into p [n, k]; each row
 * sums to 1. beta (if not NULL) receives the n precisions, in units of the
 * distances given. */
void tsne_conditional(const double *dist2, int64_t n, int k, double perplexity, double *p, double *beta);

/* The symmetric joint probabilities P = (p_{j|i} + p_{i|j}) / Σ of the
 * conditional ones of the k neighbours index [n, k] of each point: P sums
 * to 1 and P_ij = P_ji. False with an error on out-of-memory. */
bool tsne_symmetrise(const int32_t *index, const double *p, int64_t n, int k, tsne_sparse *out);

/* The affinities of the rows of x [n, d] (float, any values; centred and
 * scaled here as the reference does) for a perplexity, through
 * pf_knn_search with k = min(n - 1, floor(3 perplexity)) neighbours. */
bool tsne_affinities(const float *x, int64_t n, int64_t d, double perplexity, tsne_sparse *out);

/* ---- tsne_tree.c ---------------------------------------------------------
 * A quadtree over points in the plane (one point per leaf, coincident
 * points sharing a leaf), with each cell's centre of mass and count, for
 * the Barnes-Hut estimate of the repulsive forces of t-SNE. */
typedef struct tsne_node {
    double cx, cy, hw;   /* the cell: centre and half width (square) */
    double mx, my;       /* centre of mass of the points below */
    int64_t count;       /* points below */
    int32_t child;       /* the first of four children (x then y halves), -1 for a leaf */
    int32_t point;       /* a leaf's point (-1: empty) */
} tsne_node;

typedef struct tsne_tree {
    tsne_node *node;
    int64_t n_nodes, capacity;
    int32_t *leaf_of;    /* the leaf of each point */
    int64_t n_points;
} tsne_tree;

/* Builds (or rebuilds, reusing the memory) the tree of the n points y
 * [n, 2], inserted in order. False with an error on out-of-memory. */
bool tsne_tree_build(tsne_tree *t, const double *y, int64_t n);
void tsne_tree_free(tsne_tree *t);
/* For point i: the sum over the other points j of q_ij² (y_i - y_j) into
 * (*fx, *fy) and of q_ij = 1 / (1 + |y_i - y_j|²) into *sum_q, where a
 * cell whose half width is below theta times its centre of mass's distance
 * stands for all its points (theta = 0: exact). */
void tsne_tree_repulsion(const tsne_tree *t, const double *y, int64_t i, double theta, double *fx, double *fy,
                         double *sum_q);

/* ---- the optimisation (tsne.c) ---------------------------------------------
 * Gradient descent of KL(P || Q) from y [n, 2] (updated in place), as the
 * reference implementation: exaggeration `exaggeration` of P and momentum
 * 0.5 for the first `exaggeration_iterations`, then momentum 0.8; gains;
 * the learning rate eta. Returns KL(P || Q) at the last iteration (NAN with
 * an error on out-of-memory). If log is not NULL, prints the divergence
 * every 100 iterations. */
double tsne_optimise(const tsne_sparse *p, double *y, int iterations, int exaggeration_iterations,
                     double exaggeration, double theta, double eta, FILE *log);

#endif
