/*
 * tsne.c — slides "Compréhension des modèles", "Encodages de MNIST dans
 * les couches d'un LeNet": t-SNE maps of the test digits as the successive
 * layers of a LeNet trained on MNIST encode them (the slides: Input,
 * Layer #1, #4, #7, #9). The classes, mixed at the input, separate as the
 * depth grows.
 *
 * The network is the lecture's CNN (common/cnn.h), trained here or by an
 * earlier experiment of the same output folder. Forward hooks on its
 * layers (pf_module_set_forward_hook, as PyTorch's register_forward_hook)
 * capture, for the first 5,000 test digits, the input and the outputs of
 *
 *   #2  MaxPool2d(3)    after the first convolution and its ReLU (#0, #1)
 *   #5  MaxPool2d(2)    after the second (#3, #4)
 *   #7  Linear(256,200) the hidden layer
 *   #9  Linear(200,10)  the output: the class scores
 *
 * (the slide's #1 and #4 are the ReLUs just before #2 and #5, whose maps are
 * the same features 9 and 4 times larger). Each is flattened and mapped by
 * pf_tsne (perplexity 30, 1,000 iterations, Barnes-Hut) to the plane, one
 * panel per layer, coloured by class. The number that says what the
 * pictures show is the 1-nearest-neighbour accuracy of each map
 * (pf_knn_accuracy: the fraction of digits whose nearest neighbour in the
 * map has their class), which rises with the depth; the same number in the
 * layer's own space is given beside it.
 *
 * Quick mode (tests): the network of a quick run (1 epoch on 10,000
 * digits), 500 test digits, 500 iterations.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "lecture.h"
#include "plot.h"

#define POINTS 5000
#define QUICK_POINTS 500
#define ITERATIONS 1000
#define QUICK_ITERATIONS 500
#define PERPLEXITY 30
#define BATCH 500
#define LAYERS 5

/* The encodings of one layer, filled batch by batch by the hook. */
typedef struct capture {
    float *values;   /* [n, dim] */
    int64_t n, dim, rows;
    bool failed;
} capture;

static void capture_hook(pf_module *m, pf_tensor *input, pf_tensor *output, void *user)
{
    (void)m;
    (void)input;
    capture *c = user;
    int64_t rows = output ? output->shape[0] : 0;
    if (!output || c->failed || pf_numel(output) != rows * c->dim || c->rows + rows > c->n ||
        !pf_copy_to_f32(output, c->values + c->rows * c->dim)) {
        c->failed = true;
        return;
    }
    c->rows += rows;
}

/* Panel ranges around the points, with room on the right for a legend. */
static void ranges(const float *y, int64_t n, double margin_right, double r[4])
{
    r[0] = r[2] = INFINITY;
    r[1] = r[3] = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        r[0] = fmin(r[0], y[2 * i]);
        r[1] = fmax(r[1], y[2 * i]);
        r[2] = fmin(r[2], y[2 * i + 1]);
        r[3] = fmax(r[3], y[2 * i + 1]);
    }
    double w = r[1] - r[0], h = r[3] - r[2];
    r[0] -= 0.04 * w;
    r[1] += (0.04 + margin_right) * w;
    r[2] -= 0.04 * h;
    r[3] += 0.04 * h;
}

/* The points of one map, class by class. */
static void scatter(plot *p, const float *y, const int64_t *labels, int64_t n, bool legend)
{
    double *xs = malloc(sizeof *xs * (size_t)n), *ys = malloc(sizeof *ys * (size_t)n);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        return;
    }
    for (int c = 0; c < 10; c++) {
        int m = 0;
        for (int64_t i = 0; i < n; i++)
            if (labels[i] == c) {
                xs[m] = y[2 * i];
                ys[m++] = y[2 * i + 1];
            }
        char name[8];
        snprintf(name, sizeof name, "%d", c);
        plot_points(p, m, xs, ys, c % PLOT_COLORS, 0, legend ? name : NULL);
    }
    free(xs);
    free(ys);
}

int lecture_tsne(lecture_run *run)
{
    pf_ctx *ctx = pf_ctx_new(0), *step = pf_ctx_new(0);
    capture caps[LAYERS] = {{0}};
    int status = 1;
    lecture_cnn cnn;
    if (!ctx || !step || !lecture_cnn_get(run, ctx, &cnn))
        goto done;

    const int64_t n = cnn.test.count < (run->quick ? QUICK_POINTS : POINTS) ? cnn.test.count
                                                                             : (run->quick ? QUICK_POINTS : POINTS);
    const int iterations = run->quick ? QUICK_ITERATIONS : ITERATIONS;
    /* Which outputs: -1 for the input, else the layer's index. */
    const int layer[LAYERS] = {-1, 2, 5, 7, 9};
    const char *what[LAYERS] = {"input", "#2 (conv 1, ReLU, pool)", "#5 (conv 2, ReLU, pool)", "#7 (hidden Linear)",
                                "#9 (output Linear)"};
    const char *key[LAYERS] = {"input", "layer2", "layer5", "layer7", "layer9"};
    /* The size of one digit's encoding after each layer, from a forward
     * of one digit, child by child. */
    int64_t size_after[64] = {0};
    const int children = pf_module_num_children(cnn.model);
    {
        pf_tensor *x, *y;
        bool recording = pf_set_grad_enabled(false);
        bool ok = children <= 64 && lecture_cnn_test_batch(step, &cnn.test, 1, &x, &y);
        for (int i = 0; ok && i < children; i++) {
            x = pf_forward(step, pf_module_child(cnn.model, i), x);
            ok = x != NULL;
            size_after[i] = ok ? pf_numel(x) : 0;
        }
        pf_set_grad_enabled(recording);
        pf_ctx_reset(step);
        if (!ok)
            goto fail;
    }
    for (int l = 0; l < LAYERS; l++) {
        caps[l].n = n;
        caps[l].dim = layer[l] < 0 ? cnn.test.images->shape[1] * cnn.test.images->shape[2] : size_after[layer[l]];
        caps[l].values = malloc(sizeof(float) * (size_t)(n * caps[l].dim));
        if (!caps[l].values) {
            fprintf(stderr, "lecture tsne: out of memory\n");
            goto done;
        }
        if (layer[l] >= 0)
            pf_module_set_forward_hook(pf_module_child(cnn.model, layer[l]), capture_hook, &caps[l]);
    }

    /* One pass over the digits; the hooks keep each layer's outputs. */
    pf_dataset first = cnn.test;
    first.images = pf_narrow(ctx, cnn.test.images, 0, 0, n);
    first.labels = pf_narrow(ctx, cnn.test.labels, 0, 0, n);
    first.count = n;
    pf_tensor *labels = pf_contiguous(ctx, first.labels);
    pf_loader *loader = pf_loader_new(ctx, &first, (pf_loader_opts){.batch_size = BATCH});
    if (!loader || !labels)
        goto fail;
    bool recording = pf_set_grad_enabled(false);
    pf_tensor *input, *target;
    while (pf_loader_next(loader, step, &input, &target)) {
        capture_hook(NULL, NULL, input, &caps[0]);
        pf_forward(step, cnn.model, input);
        pf_ctx_reset(step);
        if (!pf_ok())
            break;
    }
    pf_set_grad_enabled(recording);
    for (int l = 1; l < LAYERS; l++)
        pf_module_set_forward_hook(pf_module_child(cnn.model, layer[l]), NULL, NULL);
    for (int l = 0; l < LAYERS; l++)
        if (caps[l].failed || caps[l].rows != n) {
            fprintf(stderr, "lecture tsne: capturing layer %s failed\n", key[l]);
            goto fail;
        }
    if (!pf_ok())
        goto fail;

    /* The maps. */
    printf("t-SNE of %lld test digits per layer (perplexity %d, %d iterations, theta 0.5, %d threads)\n",
           (long long)n, PERPLEXITY, iterations, pf_get_num_threads());
    printf("layer                     values   t-SNE (s)   KL      1-NN map   1-NN layer\n");
    float *maps[LAYERS] = {0};
    double acc_map[LAYERS], acc_space[LAYERS], seconds[LAYERS], kl[LAYERS], dims[LAYERS], total = 0;
    const int64_t *truth = pf_data_i64(labels);
    for (int l = 0; l < LAYERS && truth; l++) {
        pf_tensor *x = pf_from_f32(ctx, caps[l].values, PF_DIMS(n, caps[l].dim));
        double start = pf_profile_clock();
        pf_tensor *y = pf_tsne(ctx, x, &(pf_tsne_opts){.perplexity = PERPLEXITY, .iterations = iterations,
                                                       .seed = run->seed, .kl_divergence = &kl[l]});
        seconds[l] = pf_profile_clock() - start;
        total += seconds[l];
        acc_map[l] = pf_knn_accuracy(y, labels);
        acc_space[l] = pf_knn_accuracy(x, labels);
        maps[l] = pf_data_f32(y);
        dims[l] = (double)caps[l].dim;
        if (!maps[l] || !pf_ok())
            goto fail;
        printf("%-25s %6lld   %9.1f   %.3f   %8.4f   %10.4f\n", what[l], (long long)caps[l].dim, seconds[l], kl[l],
               acc_map[l], acc_space[l]);
        fflush(stdout);
        free(caps[l].values);
        caps[l].values = NULL;
    }
    if (!truth)
        goto fail;

    /* One panel per layer, and the accuracies against the depth. */
    plot *p = plot_open(lecture_path(run, "tsne.png"), 1800, 1200);
    if (!p)
        goto done;
    plot_panels(p, 3, 2);
    for (int l = 0; l < LAYERS; l++) {
        double r[4];
        ranges(maps[l], n, l == 0 ? 0.3 : 0, r);
        char title[160];
        snprintf(title, sizeof title, "%s: 1-NN %.1f%%", what[l], 100 * acc_map[l]);
        plot_axes(p, r[0], r[1], r[2], r[3], NULL, NULL, title);
        scatter(p, maps[l], truth, n, l == 0);
        if (l == 0)
            plot_legend(p);
    }
    double depth[LAYERS], pct_map[LAYERS], pct_space[LAYERS];
    for (int l = 0; l < LAYERS; l++) {
        depth[l] = l;
        pct_map[l] = 100 * acc_map[l];
        pct_space[l] = 100 * acc_space[l];
    }
    double lo = 100;
    for (int l = 0; l < LAYERS; l++)
        lo = fmin(lo, fmin(pct_map[l], pct_space[l]));
    plot_axes(p, -0.3, LAYERS - 0.7, floor(lo / 5) * 5 - 5, 100.5,
              "layer: input, #2, #5, #7, #9", "1-NN accuracy (%)", "nearest-neighbour accuracy");
    plot_line(p, LAYERS, depth, pct_map, PLOT_BLUE, "in the t-SNE map");
    plot_points(p, LAYERS, depth, pct_map, PLOT_BLUE, 2, NULL);
    plot_dashed_line(p, LAYERS, depth, pct_space, PLOT_RED, "in the layer's space");
    plot_points(p, LAYERS, depth, pct_space, PLOT_RED, 3, NULL);
    plot_legend_at(p, PLOT_BOTTOM_RIGHT);
    if (!plot_close(p))
        goto done;

    char caption[1024];
    snprintf(caption, sizeof caption,
             "t-SNE maps of the first %lld test digits (colour: the true class) as encoded by the input and by "
             "layers #2, #5, #7 and #9 of the lecture's LeNet (test error %.2f%%), perplexity %d, %d iterations; "
             "in each title the 1-nearest-neighbour accuracy of the map. Bottom right: that accuracy against the "
             "depth, in the map (blue) and in the layer's own space (red).",
             (long long)n, 100 * cnn.test_error, PERPLEXITY, iterations);
    lecture_figure(run, "tsne.png", caption);

    for (int l = 0; l < LAYERS; l++) {
        acc_map[l] = round(acc_map[l] * 1e4) / 1e4;
        acc_space[l] = round(acc_space[l] * 1e4) / 1e4;
        seconds[l] = round(seconds[l] * 100) / 100;
        kl[l] = round(kl[l] * 1e4) / 1e4;
    }
    lecture_text(run, "layers", "input, #2 (conv 1 + ReLU + pool), #5 (conv 2 + ReLU + pool), #7 (Linear 256→200), "
                                "#9 (Linear 200→10)");
    lecture_series(run, "dimensions", LAYERS, dims);
    lecture_series(run, "knn_accuracy_map", LAYERS, acc_map);
    lecture_series(run, "knn_accuracy_layer", LAYERS, acc_space);
    lecture_series(run, "kl_divergence", LAYERS, kl);
    lecture_series(run, "tsne_seconds", LAYERS, seconds);
    lecture_number(run, "points", (double)n);
    lecture_number(run, "iterations", iterations);
    lecture_number(run, "perplexity", PERPLEXITY);
    lecture_number(run, "threads", pf_get_num_threads());
    lecture_number(run, "network_test_error_percent", round(1e4 * cnn.test_error) / 100);
    lecture_number(run, "network_epochs", cnn.epochs);
    if (run->quick)
        lecture_note(run, "Quick run: %lld digits, %d iterations, a network trained for %d epoch on %lld digits — "
                     "`profond lecture tsne` maps 5,000 digits with a network trained on all 60,000.",
                     (long long)n, iterations, cnn.epochs, (long long)cnn.train_count);
    int best = 0;
    for (int l = 1; l < LAYERS; l++)
        if (acc_map[l] > acc_map[best])
            best = l;
    lecture_note(run, "1-nearest-neighbour accuracy of the maps, from the input to the output: %.1f%%, %.1f%%, "
                 "%.1f%%, %.1f%%, %.1f%% (chance: about 10%%), the highest at %s. The classes separate as "
                 "the depth grows: at the input, digits that look alike (4, 7 and 9; 3, 5 and 8) share regions of "
                 "the map; in the last layers each class is an island, with the network's few mistakes as strays.",
                 100 * acc_map[0], 100 * acc_map[1], 100 * acc_map[2], 100 * acc_map[3], 100 * acc_map[4],
                 what[best]);
    lecture_note(run, "The five maps took %.1f s of t-SNE (Barnes-Hut, %d threads); the network %s.", total,
                 pf_get_num_threads(),
                 cnn.reused ? "was trained by an earlier experiment of this run" : "was trained here");
    status = 0;
    goto done;
fail:
    lecture_fail(run, "t-SNE of the layers");
done:
    for (int l = 0; l < LAYERS; l++)
        free(caps[l].values);
    pf_ctx_free(step);
    pf_ctx_free(ctx);
    return status;
}
