/*
 * visualize.c — slides "Compréhension des modèles", "VGG16, rétro-propagation
 * guidée" and "VGG16, maximisation d'un canal / d'une unité": two ways of
 * seeing what the units of a trained network respond to.
 *
 * Guided backpropagation (Springenberg et al. 2015; Zeiler and Fergus's
 * deconvnet is its cousin). The gradient of a unit's value with respect to
 * the input says which pixels would change it; through a ReLU network it
 * is noisy, since negative contributions pass back as much as positive
 * ones. Guided backpropagation replaces every ReLU by pf_guided_relu, whose
 * backward passes a gradient only where the ReLU's input was positive AND
 * the gradient is positive: what is left is the part of the image that
 * excites the unit. Here: for one test digit of each class, the digit, the
 * plain gradient of its class score, and the guided one.
 *
 * Activation maximisation (Erhan et al. 2009, Simonyan et al. 2014). Start
 * from faint noise and climb the gradient of one unit's value with respect
 * to the input, keeping the ink small (an L2 penalty on the distance to
 * a black image) and the pixels within [0, 1]: the image the unit likes
 * best. Here, by Adam on the input (one image per unit, all the units of a
 * layer in one batch): channels of the first convolution (the unit at the
 * centre of the image: its 5x5 receptive field, the filter as it sees the
 * input), channels of the second (the channel's sum over the image: a
 * texture of the strokes it detects), units of the hidden layer, and the
 * ten output units (the digits).
 *
 * The network is the lecture's CNN trained on MNIST (common/cnn.h), shared
 * with the tsne experiment. On VGG16, as the slides, when its weights are
 * given: PF_VGG16_WEIGHTS names torchvision's vgg16 weights (.pth or
 * safetensors); activation maximisation then also runs on channels of its
 * 4th, 7th and 13th convolutions (at 64, 96 and 128 pixels: their
 * receptive fields, and what a CPU can climb in minutes) and on the output
 * units of the slides ("King crab", "Samoyed", "Hourglass", "Paper towel"),
 * and, if PF_VGG16_IMAGE names a PNG or JPEG, guided backpropagation of its
 * best class on that image. Without the weights the page says how to get
 * them.
 *
 * Quick mode (tests): the quick network, fewer units and steps.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "image.h"
#include "lecture.h"

#define MAX_LEAVES 64
#define VGG16_URL "https://download.pytorch.org/models/vgg16-397923af.pth"

/* ---- a network as a list of its layers ------------------------------------------
 * The leaf modules of a Sequential (and of the Sequentials inside it) in
 * forward order: the lecture's CNN has 10, torchvision's VGG16 40
 * (features.0 .. features.30, avgpool, the flatten, classifier.0 .. .6). */
typedef struct layers {
    int n;
    pf_module *leaf[MAX_LEAVES];
} layers;

static void collect(layers *l, pf_module *m)
{
    int children = pf_module_num_children(m);
    if (children == 0) {
        if (l->n < MAX_LEAVES)
            l->leaf[l->n++] = m;
        return;
    }
    for (int i = 0; i < children; i++)
        collect(l, pf_module_child(m, i));
}

/* x through leaves 0 .. last; with guided, each ReLU is pf_guided_relu. */
static pf_tensor *forward_to(pf_ctx *ctx, const layers *l, int last, pf_tensor *x, bool guided)
{
    for (int i = 0; i <= last && x; i++)
        x = guided && strcmp(pf_module_kind(l->leaf[i]), "ReLU") == 0 ? pf_guided_relu(ctx, x)
                                                                       : pf_forward(ctx, l->leaf[i], x);
    return x;
}

/* The value of unit units[b] of out for each example b, summed over b:
 * a channel's sum over the image for [B, C, H, W] (with centre: its value
 * at the centre of the image), a feature for [B, F].
 * Each example's own unit, so the gradient of the sum with respect to a
 * batch of inputs is each input's own gradient. */
static pf_tensor *unit_values(pf_ctx *ctx, pf_tensor *out, const int64_t *units, bool centre, double *each)
{
    pf_tensor *mask = out ? pf_zeros(ctx, out->ndim, out->shape) : NULL;
    float *m = pf_data_f32(mask);
    if (!m)
        return NULL;
    const int64_t b_count = out->shape[0], c_count = out->shape[1], per = pf_numel(out) / b_count / c_count;
    for (int64_t b = 0; b < b_count; b++)
        for (int64_t k = 0; k < per; k++)
            if (!centre || out->ndim != 4 || k == out->shape[2] / 2 * out->shape[3] + out->shape[3] / 2)
                m[(b * c_count + units[b]) * per + k] = 1.0f;
    pf_tensor *weighted = pf_mul(ctx, out, mask);
    if (each) {
        pf_tensor *rows = pf_sum_dims(ctx, pf_reshape(ctx, weighted, PF_DIMS(b_count, -1)), 1, (int[]){1}, false);
        if (!rows || !pf_copy_to_f64(rows, each))
            return NULL;
    }
    return pf_sum(ctx, weighted);
}

/* Makes the parameters constants: gradients go to the input only. */
static void freeze(pf_module *model)
{
    int n = 0;
    pf_tensor **p = pf_module_parameter_array(model, &n);
    for (int i = 0; p && i < n; i++)
        pf_requires_grad(p[i], false);
}

/* Each image of t [B, 1, H, W] divided by its largest absolute value (so
 * that it spans [-1, 1]; zeros stay zeros). In place. */
static void scale_each(pf_tensor *t)
{
    float *v = pf_data_f32(t);
    const int64_t b_count = t->shape[0], per = pf_numel(t) / b_count;
    for (int64_t b = 0; v && b < b_count; b++) {
        double top = 0;
        for (int64_t k = 0; k < per; k++)
            top = fmax(top, fabs(v[b * per + k]));
        for (int64_t k = 0; top > 0 && k < per; k++)
            v[b * per + k] = (float)(v[b * per + k] / top);
    }
}

/* ---- activation maximisation -------------------------------------------------------- */

typedef struct maximise_opts {
    int steps;
    double lr;           /* Adam's, in input units */
    double l2;           /* penalty l2 * |x - rest|² per image */
    double rest;         /* the input without ink: MNIST's black */
    double lo, hi;       /* the input's range */
    int64_t channels, height, width;
    bool centre;         /* a channel's value at the centre, not its sum */
} maximise_opts;

/* Images [B, C, H, W] that maximise unit units[b] of leaf `last`'s output
 * (a channel: its sum over the image), by gradient ascent from faint noise
 * around o->rest (drawn from the default generator);
 * before[b] and after[b] receive the unit's value at the start and the end.
 * In ctx; NULL on failure. */
static pf_tensor *maximise(pf_ctx *ctx, const layers *l, int last, int b_count, const int64_t *units,
                           const maximise_opts *o, double *before, double *after)
{
    pf_ctx *step = pf_ctx_new(0);
    pf_tensor *x = pf_uniform(ctx, o->rest, o->rest + 0.05 * (o->hi - o->lo),
                              PF_DIMS(b_count, o->channels, o->height, o->width));
    x = pf_requires_grad(x, true);
    pf_optim *opt = x ? pf_optim_adam(ctx, 1, &x, (pf_adam_opts){.lr = o->lr}) : NULL;
    float *v = pf_data_f32(x);
    bool ok = step && opt && v;
    for (int s = 0; ok && s <= o->steps; s++) {
        pf_tensor *value = unit_values(step, forward_to(step, l, last, x, false), units, o->centre,
                                       s == 0 ? before : s == o->steps ? after : NULL);
        if (s == o->steps) {
            ok = value != NULL;
            break;
        }
        pf_tensor *ink = pf_add_scalar(step, x, -o->rest);
        pf_tensor *loss = pf_sub(step, pf_mul_scalar(step, pf_sum(step, pf_mul(step, ink, ink)), o->l2), value);
        pf_optim_zero_grad(opt);
        ok = pf_backward(loss) && pf_optim_step(opt);
        for (int64_t k = 0; ok && k < pf_numel(x); k++)
            v[k] = (float)fmin(o->hi, fmax(o->lo, v[k]));
        pf_ctx_reset(step);
    }
    pf_ctx_free(step);
    return ok ? pf_detach(ctx, x) : NULL;
}

/* ---- the lecture's CNN ----------------------------------------------------------------- */

/* Guided backpropagation: for the first test digit of each class, the
 * digit, the gradient of its class score and the guided gradient. */
static bool guided_figure(lecture_run *run, pf_ctx *ctx, const lecture_cnn *cnn, const layers *l)
{
    pf_tensor *images, *labels;
    if (!lecture_cnn_test_batch(ctx, &cnn->test, cnn->test.count < 1000 ? cnn->test.count : 1000, &images,
                                &labels))
        return lecture_fail(run, "reading test digits"), false;
    const int64_t *truth = pf_data_i64(labels);
    int64_t pick[10], classes[10];
    int found = 0;
    for (int c = 0; c < 10 && truth; c++)
        for (int64_t i = 0; i < labels->shape[0]; i++)
            if (truth[i] == c) {
                pick[found] = i;
                classes[found++] = c;
                break;
            }
    if (found == 0)
        return lecture_fail(run, "no test digits"), false;
    pf_tensor *x = pf_index_select(ctx, images, 0, pf_from_i64(ctx, pick, PF_DIMS(found)));
    x = x ? pf_requires_grad(pf_contiguous(ctx, x), true) : NULL;
    /* The class scores through the network as it is, and with guided ReLUs
     * (the same values; only the backward differs). */
    pf_tensor *score = unit_values(ctx, forward_to(ctx, l, l->n - 1, x, false), classes, false, NULL);
    pf_tensor *guided_score = unit_values(ctx, forward_to(ctx, l, l->n - 1, x, true), classes, false, NULL);
    pf_tensor *plain = NULL, *guided = NULL;
    if (!x || !pf_grad(ctx, score, 1, &x, &plain) || !pf_grad(ctx, guided_score, 1, &x, &guided))
        return lecture_fail(run, "guided backpropagation"), false;

    /* Numbers: how much of each gradient is there, and where. */
    float *g = pf_data_f32(guided), *p = pf_data_f32(plain);
    const int64_t per = pf_numel(guided) / found;
    int64_t nonzero = 0, positive = 0, plain_negative = 0;
    for (int64_t k = 0; g && p && k < pf_numel(guided); k++) {
        nonzero += g[k] != 0;
        positive += g[k] > 0;
        plain_negative += p[k] < 0;
    }
    lecture_number(run, "guided_nonzero_fraction", round(1e4 * (double)nonzero / (double)(found * per)) / 1e4);
    lecture_number(run, "guided_positive_fraction", round(1e4 * (double)positive / (double)(found * per)) / 1e4);
    lecture_number(run, "plain_negative_fraction",
                   round(1e4 * (double)plain_negative / (double)(found * per)) / 1e4);

    /* The grid: digits (from [lo, hi] to [-1, 1]), plain, guided. */
    const double lo = -cnn->train.mean / cnn->train.std, hi = (1 - cnn->train.mean) / cnn->train.std;
    pf_tensor *shown =
        pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_detach(ctx, x), 2 / (hi - lo)), -1 - 2 * lo / (hi - lo));
    pf_tensor *a = pf_clone(ctx, plain), *b = pf_clone(ctx, guided);
    if (!shown || !a || !b)
        return lecture_fail(run, "guided backpropagation"), false;
    scale_each(a);
    scale_each(b);
    pf_tensor *grid = pf_cat(ctx, 3, (pf_tensor *[]){shown, a, b}, 0);
    if (!grid || !image_grid_png(lecture_path(run, "guided.png"), grid, found, -1, 1, 4))
        return false;
    lecture_figure(run, "guided.png",
                   "Guided backpropagation on the lecture's CNN: for the first test digit of each class (top row), "
                   "the gradient of its class score with respect to the pixels (middle) and the guided gradient, "
                   "every ReLU letting back only positive gradients where it was active (bottom). Grey is 0, white "
                   "positive, black negative; each image is scaled by its largest value.");
    printf("guided backpropagation: %.1f%% of the guided gradient's pixels are nonzero (%.1f%% positive); the plain "
           "gradient is negative on %.1f%% of them\n", 100.0 * (double)nonzero / (double)(found * per),
           100.0 * (double)positive / (double)(found * per), 100.0 * (double)plain_negative / (double)(found * per));
    return true;
}

typedef struct unit_set {
    const char *key;      /* "conv1" */
    const char *title;    /* for the caption */
    int leaf;             /* output of that leaf */
    int count, quick_count;
    int cols;
    int crop;             /* > 0: the unit at the centre, shown in a crop x crop window */
} unit_set;

/* Activation maximisation for one set of units: their images as a grid,
 * and the values before and after in results.json. */
static bool maximise_figure(lecture_run *run, pf_ctx *ctx, const lecture_cnn *cnn, const layers *l,
                            const unit_set *u, const maximise_opts *o, double *gain_min)
{
    const int count = run->quick ? u->quick_count : u->count;
    int64_t units[256];
    double before[256], after[256];
    for (int i = 0; i < count; i++)
        units[i] = i;
    double start = pf_profile_clock();
    maximise_opts uo = *o;
    uo.centre = u->crop > 0;
    pf_tensor *x = maximise(ctx, l, u->leaf, count, units, &uo, before, after);
    if (x && u->crop > 0)
        x = pf_narrow(ctx, pf_narrow(ctx, x, 2, (o->height - u->crop) / 2, u->crop), 3, (o->width - u->crop) / 2,
                      u->crop);
    if (!x)
        return lecture_fail(run, "activation maximisation"), false;
    double seconds = pf_profile_clock() - start;
    /* Back to pixels in [0, 1]. */
    pf_tensor *pixels = pf_add_scalar(ctx, pf_mul_scalar(ctx, x, cnn->train.std), cnn->train.mean);
    char file[64], key[80];
    snprintf(file, sizeof file, "maximise_%s.png", u->key);
    if (!pixels || !image_grid_png(lecture_path(run, file), pixels, count < u->cols ? count : u->cols, 0, 1,
                                     u->crop > 0 ? 8 : 4))
        return false;
    double mean_before = 0, mean_after = 0;
    for (int i = 0; i < count; i++) {
        mean_before += before[i] / count;
        mean_after += after[i] / count;
        *gain_min = fmin(*gain_min, after[i] - before[i]);
        before[i] = round(before[i] * 1e4) / 1e4;
        after[i] = round(after[i] * 1e4) / 1e4;
    }
    snprintf(key, sizeof key, "%s_before", u->key);
    lecture_series(run, key, count, before);
    snprintf(key, sizeof key, "%s_after", u->key);
    lecture_series(run, key, count, after);
    char caption[512];
    snprintf(caption, sizeof caption,
             "Activation maximisation, %s: for each of the first %d units, the input that maximises it, found by "
             "%d steps of Adam (lr %g) from faint noise, with an L2 penalty %g |x|² on the ink (x the normalised "
             "pixels minus black's) and pixels kept in [0, 1]. "
             "Mean value of the units from %.3g to %.3g.",
             u->title, count, o->steps, o->lr, o->l2, mean_before, mean_after);
    lecture_figure(run, file, caption);
    printf("activation maximisation, %-36s %3d units: mean value %8.3f -> %8.3f (%.1f s)\n", u->title, count,
           mean_before, mean_after, seconds);
    fflush(stdout);
    return true;
}

/* ---- VGG16, when its weights are given --------------------------------------------------- */

/* Guided backpropagation of VGG16's best class on the image at path
 * (PNG or JPEG, resized to 256 and cropped to 224 as torchvision's
 * evaluation): the image, the gradient and the guided gradient. */
static bool vgg16_guided(lecture_run *run, pf_ctx *ctx, const layers *l, const char *path)
{
    pf_tensor *x = pf_image_prepare(ctx, pf_image_load(ctx, path),
                                    &(pf_image_prep){.resize = 256, .crop = 224, .norm = PF_NORM_IMAGENET});
    x = x ? pf_requires_grad(x, true) : NULL;
    pf_tensor *logits = forward_to(ctx, l, l->n - 1, x, false);
    const int64_t *best = pf_data_i64(pf_argmax(ctx, logits, 1, false));
    pf_tensor *plain = NULL, *guided = NULL;
    bool ok = best && pf_grad(ctx, unit_values(ctx, logits, best, false, NULL), 1, &x, &plain) &&
              pf_grad(ctx, unit_values(ctx, forward_to(ctx, l, l->n - 1, x, true), best, false, NULL), 1, &x,
                      &guided);
    pf_tensor *mean = pf_from_f32(ctx, (float[]){0.485f, 0.456f, 0.406f}, PF_DIMS(1, 3, 1, 1));
    pf_tensor *std = pf_from_f32(ctx, (float[]){0.229f, 0.224f, 0.225f}, PF_DIMS(1, 3, 1, 1));
    /* All three in [-1, 1]: the image from [0, 1], the gradients scaled. */
    pf_tensor *shown = ok ? pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_add(ctx, pf_mul(ctx, pf_detach(ctx, x), std),
                                                                        mean), 2), -1) : NULL;
    pf_tensor *a = ok ? pf_clone(ctx, plain) : NULL, *b = ok ? pf_clone(ctx, guided) : NULL;
    if (!shown || !a || !b)
        return lecture_fail(run, "VGG16 guided backpropagation"), false;
    scale_each(a);
    scale_each(b);
    pf_tensor *grid = pf_cat(ctx, 3, (pf_tensor *[]){shown, a, b}, 0);
    if (!grid || !image_grid_png(lecture_path(run, "vgg16_guided.png"), grid, 3, -1, 1, 1))
        return false;
    char caption[512];
    const char *name = pf_imagenet_class((int)best[0]);
    snprintf(caption, sizeof caption, "VGG16, guided backpropagation: the image (%s), the gradient of its best "
             "class's score (%s, #%lld) with respect to the pixels, and the guided gradient (grey is 0).", path,
             name ? name : "?", (long long)best[0]);
    lecture_figure(run, "vgg16_guided.png", caption);
    printf("VGG16: guided backpropagation of class %lld (%s)\n", (long long)best[0], name ? name : "?");
    return true;
}

static bool vgg16(lecture_run *run, const char *weights)
{
    pf_ctx *params = pf_ctx_new(0), *ctx = pf_ctx_new(0);
    pf_module *model = params ? pf_model_vgg16(params, 1000) : NULL;
    if (!model || !pf_module_load(model, weights)) {
        lecture_fail(run, "loading VGG16");
        pf_ctx_free(params);
        pf_ctx_free(ctx);
        return false;
    }
    pf_module_train(model, false);
    freeze(model);
    layers l = {0};
    collect(&l, model);
    /* ImageNet's normalisation: the input range per channel is about
     * [-2.1, 2.6]. */
    const double steps = run->quick ? 10 : 100;
    struct {
        const char *key, *title;
        int leaf, size;
        int64_t units[4];
    } sets[] = {
        {"vgg16_conv4", "VGG16, 4th convolution (features.7), channels 0-3", 7, 64, {0, 1, 2, 3}},
        {"vgg16_conv7", "VGG16, 7th convolution (features.14), channels 0-3", 14, 96, {0, 1, 2, 3}},
        {"vgg16_conv13", "VGG16, 13th convolution (features.28), channels 0-3", 28, 128, {0, 1, 2, 3}},
        {"vgg16_output", "VGG16, output units: King crab (121), Samoyed (258), Hourglass (604), Paper towel (700)",
         l.n - 1, 128, {121, 258, 604, 700}},
    };
    const char *image = getenv("PF_VGG16_IMAGE");
    bool ok = true;
    if (image && image[0])
        ok = vgg16_guided(run, ctx, &l, image);
    else
        lecture_note(run, "VGG16's guided backpropagation needs an image: set PF_VGG16_IMAGE to a PNG or JPEG.");
    pf_ctx_reset(ctx);
    for (size_t s = 0; ok && s < sizeof sets / sizeof *sets; s++) {
        maximise_opts o = {.steps = (int)steps, .lr = 0.05, .l2 = 1e-4, .rest = 0, .lo = -2.1, .hi = 2.6, .channels = 3,
                           .height = sets[s].size, .width = sets[s].size};
        double before[4], after[4];
        double start = pf_profile_clock();
        pf_tensor *x = maximise(ctx, &l, sets[s].leaf, 4, sets[s].units, &o, before, after);
        /* Back to colours: x * std + mean per channel. */
        pf_tensor *mean = pf_from_f32(ctx, (float[]){0.485f, 0.456f, 0.406f}, PF_DIMS(1, 3, 1, 1));
        pf_tensor *std = pf_from_f32(ctx, (float[]){0.229f, 0.224f, 0.225f}, PF_DIMS(1, 3, 1, 1));
        pf_tensor *rgb = pf_add(ctx, pf_mul(ctx, x, std), mean);
        char file[64];
        snprintf(file, sizeof file, "%s.png", sets[s].key);
        ok = rgb && image_grid_png(lecture_path(run, file), rgb, 4, 0, 1, 2);
        if (ok) {
            char caption[512];
            snprintf(caption, sizeof caption, "Activation maximisation, %s, from noise at %dx%d (%d steps). Values "
                     "%.3g, %.3g, %.3g, %.3g -> %.3g, %.3g, %.3g, %.3g.", sets[s].title, sets[s].size,
                     sets[s].size, o.steps, before[0], before[1], before[2], before[3], after[0], after[1],
                     after[2], after[3]);
            lecture_figure(run, file, caption);
            printf("VGG16: %s (%.1f s)\n", sets[s].title, pf_profile_clock() - start);
        }
        pf_ctx_reset(ctx);
    }
    if (!ok)
        lecture_fail(run, "VGG16 activation maximisation");
    pf_ctx_free(ctx);
    pf_ctx_free(params);
    return ok;
}

int lecture_visualize(lecture_run *run)
{
    pf_ctx *ctx = pf_ctx_new(0), *work = pf_ctx_new(0);
    lecture_cnn cnn;
    int status = 1;
    if (!ctx || !work || !lecture_cnn_get(run, ctx, &cnn))
        goto done;
    freeze(cnn.model);
    layers l = {0};
    collect(&l, cnn.model);
    if (l.n != 10) {
        fprintf(stderr, "lecture visualize: the network has %d layers, not the lecture's 10\n", l.n);
        goto done;
    }
    if (!guided_figure(run, work, &cnn, &l))
        goto done;
    pf_ctx_reset(work);

    const double lo = -cnn.train.mean / cnn.train.std, hi = (1 - cnn.train.mean) / cnn.train.std;
    maximise_opts o = {.steps = run->quick ? 40 : 200, .lr = 0.05, .l2 = 0.01, .rest = lo, .lo = lo, .hi = hi,
                       .channels = 1, .height = cnn.test.images->shape[1], .width = cnn.test.images->shape[2]};
    const unit_set sets[] = {
        {"conv1", "channels of the 1st convolution (#0), at the centre", 0, 32, 8, 16, 9},
        {"conv2", "channels of the 2nd convolution (#3), over the image", 3, 32, 8, 8, 0},
        {"hidden", "units of the hidden layer (#7)", 7, 16, 8, 8, 0},
        {"output", "the output units (#9: the digits 0 to 9)", 9, 10, 10, 10, 0},
    };
    double gain_min = INFINITY;
    for (size_t s = 0; s < sizeof sets / sizeof *sets; s++) {
        if (!maximise_figure(run, work, &cnn, &l, &sets[s], &o, &gain_min))
            goto done;
        pf_ctx_reset(work);
    }
    lecture_number(run, "smallest_increase", round(gain_min * 1e4) / 1e4);
    lecture_number(run, "network_test_error_percent", round(1e4 * cnn.test_error) / 100);
    lecture_number(run, "network_epochs", cnn.epochs);
    lecture_note(run, "The network: the lecture's CNN trained for %d epoch%s (test error %.2f%%)%s.", cnn.epochs,
                 cnn.epochs > 1 ? "s" : "", 100 * cnn.test_error,
                 cnn.reused ? ", the one the tsne experiment trained" : "");

    const char *weights = getenv("PF_VGG16_WEIGHTS");
    if (weights && weights[0]) {
        if (!vgg16(run, weights))
            goto done;
    } else {
        lecture_note(run, "VGG16, as on the slides: set PF_VGG16_WEIGHTS to torchvision's weights (" VGG16_URL
                     ", 528 MB; .pth or safetensors) and run `profond lecture visualize` again: activation "
                     "maximisation then runs on channels of its 4th, 7th and 13th convolutions and on the slides' "
                     "output units.");
        printf("VGG16: skipped (set PF_VGG16_WEIGHTS to torchvision's vgg16 weights, %s)\n", VGG16_URL);
    }
    status = 0;
done:
    pf_ctx_free(work);
    pf_ctx_free(ctx);
    return status;
}
