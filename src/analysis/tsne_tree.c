/*
 * tsne_tree.c — the quadtree of Barnes-Hut t-SNE (van der Maaten 2014,
 * section 4.2) and the repulsive forces it estimates.
 *
 * The gradient of t-SNE has a repulsive part that sums over every pair of
 * points, Σ_j q_ij² (y_i - y_j) / Z with q_ij = 1 / (1 + |y_i - y_j|²) and
 * Z = Σ_{k≠l} q_kl. Seen from y_i, the points of a far, small cell all
 * have about the same q, so the cell stands for all of them at its centre
 * of mass: count · q² (y_i - m) and count · q. "Far and small" is the
 * reference's test, half width < theta · distance to the centre of mass;
 * theta = 0 visits every leaf (the exact sum).
 *
 * The tree holds one point per leaf. Points with the same coordinates share
 * a leaf (the reference's duplicates), as do points still together at
 * TREE_MAX_DEPTH subdivisions (cells 2^-50 of the spread: the same for the
 * forces). The nodes live in one array, children four in a row, rebuilt at
 * every iteration in the same memory; insertion is serial and in point
 * order, so the tree, and every sum over it, is the same on any number of
 * threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne_internal.h"

#define TREE_MAX_DEPTH 50

void tsne_tree_free(tsne_tree *t)
{
    free(t->node);
    free(t->leaf_of);
    memset(t, 0, sizeof *t);
}

/* A new node (index), or -1 on out-of-memory. */
static int64_t new_nodes(tsne_tree *t, int64_t count)
{
    if (t->n_nodes + count > t->capacity) {
        int64_t cap = t->capacity ? 2 * t->capacity : 1024;
        while (cap < t->n_nodes + count)
            cap *= 2;
        if (cap > INT32_MAX)
            return -1;
        tsne_node *grown = realloc(t->node, sizeof *grown * (size_t)cap);
        if (!grown)
            return -1;
        t->node = grown;
        t->capacity = cap;
    }
    int64_t at = t->n_nodes;
    t->n_nodes += count;
    return at;
}

static void init_cell(tsne_node *nd, double cx, double cy, double hw)
{
    *nd = (tsne_node){.cx = cx, .cy = cy, .hw = hw, .child = -1, .point = -1};
}

/* The child of an inner node that holds (x, y). */
static int32_t child_for(const tsne_node *nd, double x, double y)
{
    return nd->child + (x >= nd->cx) + 2 * (y >= nd->cy);
}

/* Splits leaf k into four children and moves its points (all at the
 * coordinates of its point) into one of them. */
static bool split(tsne_tree *t, int64_t k, const double *y)
{
    int64_t first = new_nodes(t, 4);
    if (first < 0)
        return false;
    tsne_node *nd = &t->node[k]; /* after the realloc */
    const double h = nd->hw / 2;
    for (int q = 0; q < 4; q++)
        init_cell(&t->node[first + q], nd->cx + (q & 1 ? h : -h), nd->cy + (q & 2 ? h : -h), h);
    nd->child = (int32_t)first;
    const int32_t p = nd->point;
    tsne_node *c = &t->node[child_for(nd, y[2 * p], y[2 * p + 1])];
    c->point = p;
    c->count = nd->count;
    c->mx = y[2 * p] * (double)nd->count;
    c->my = y[2 * p + 1] * (double)nd->count;
    nd->point = -1;
    return true;
}

/* Inserts point i: down from the root, adding it to each cell's count and
 * centre of mass; an occupied leaf on the way is split first, unless its
 * point has i's coordinates or the cell is at the maximum depth (then i
 * shares the leaf). */
static bool insert(tsne_tree *t, const double *y, int32_t i)
{
    const double px = y[2 * i], py = y[2 * i + 1];
    int64_t k = 0;
    for (int depth = 0;; depth++) {
        tsne_node *nd = &t->node[k];
        if (nd->child < 0 && nd->point >= 0 && depth < TREE_MAX_DEPTH &&
            !(y[2 * nd->point] == px && y[2 * nd->point + 1] == py)) {
            if (!split(t, k, y))
                return false;
            nd = &t->node[k]; /* after the realloc */
        }
        nd->mx += px; /* sums here; centres of mass once all are in */
        nd->my += py;
        nd->count++;
        if (nd->child >= 0) {
            k = child_for(nd, px, py);
            continue;
        }
        if (nd->point < 0)
            nd->point = i;
        return true;
    }
}

bool tsne_tree_build(tsne_tree *t, const double *y, int64_t n)
{
    if (t->n_points != n) {
        free(t->leaf_of);
        t->leaf_of = malloc(sizeof *t->leaf_of * (size_t)n);
        t->n_points = t->leaf_of ? n : 0;
        if (!t->leaf_of) {
            pf_fail("pf_tsne: out of memory for the quadtree of %lld points", (long long)n);
            return false;
        }
    }
    double x0 = y[0], x1 = y[0], y0 = y[1], y1 = y[1];
    for (int64_t i = 1; i < n; i++) {
        x0 = fmin(x0, y[2 * i]);
        x1 = fmax(x1, y[2 * i]);
        y0 = fmin(y0, y[2 * i + 1]);
        y1 = fmax(y1, y[2 * i + 1]);
    }
    t->n_nodes = 0;
    if (new_nodes(t, 1) < 0) {
        pf_fail("pf_tsne: out of memory for the quadtree of %lld points", (long long)n);
        return false;
    }
    double hw = fmax(x1 - x0, y1 - y0) / 2;
    init_cell(&t->node[0], (x0 + x1) / 2, (y0 + y1) / 2, hw * (1 + 1e-6) + 1e-300);
    for (int64_t i = 0; i < n; i++)
        if (!insert(t, y, (int32_t)i)) {
            pf_fail("pf_tsne: out of memory for the quadtree of %lld points", (long long)n);
            return false;
        }
    for (int64_t k = 0; k < t->n_nodes; k++)
        if (t->node[k].count > 0) {
            t->node[k].mx /= (double)t->node[k].count;
            t->node[k].my /= (double)t->node[k].count;
        }
    /* Where each point ended: the leaf its coordinates lead to. */
    for (int64_t i = 0; i < n; i++) {
        int64_t k = 0;
        while (t->node[k].child >= 0)
            k = child_for(&t->node[k], y[2 * i], y[2 * i + 1]);
        t->leaf_of[i] = (int32_t)k;
    }
    return true;
}

void tsne_tree_repulsion(const tsne_tree *t, const double *y, int64_t i, double theta, double *fx, double *fy,
                         double *sum_q)
{
    const double px = y[2 * i], py = y[2 * i + 1], theta2 = theta * theta;
    const tsne_node *node = t->node;
    int32_t stack[4 * TREE_MAX_DEPTH + 8];
    int sp = 0;
    double gx = 0, gy = 0, s = 0;
    stack[sp++] = 0;
    while (sp > 0) {
        const int32_t k = stack[--sp];
        const tsne_node *nd = &node[k];
        if (nd->count == 0)
            continue;
        const double dx = px - nd->mx, dy = py - nd->my, d2 = dx * dx + dy * dy;
        double c = (double)nd->count;
        if (nd->child < 0) {
            if (k == t->leaf_of[i])
                c -= 1; /* not with itself */
            if (c == 0)
                continue;
        } else if (!(nd->hw * nd->hw < theta2 * d2)) {
            for (int q = 3; q >= 0; q--)
                stack[sp++] = nd->child + q;
            continue;
        }
        const double q = 1 / (1 + d2), m = c * q;
        s += m;
        gx += m * q * dx;
        gy += m * q * dy;
    }
    *fx = gx;
    *fy = gy;
    *sum_q = s;
}
