/*
 * zoo.c — torchvision's AlexNet and VGG16, layer for layer, with its
 * state_dict names, so that its weight files load as they are:
 *
 *   AlexNet(
 *     (features): Sequential(
 *       (0): Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))
 *       (1): ReLU()  (2): MaxPool2d(kernel_size=3, stride=2 ...)
 *       (3): Conv2d(64, 192, 5, padding 2)  (4): ReLU  (5): MaxPool2d(3, 2)
 *       (6): Conv2d(192, 384, 3, padding 1)  (7): ReLU
 *       (8): Conv2d(384, 256, 3, padding 1)  (9): ReLU
 *       (10): Conv2d(256, 256, 3, padding 1)  (11): ReLU  (12): MaxPool2d(3, 2))
 *     (avgpool): AdaptiveAvgPool2d(output_size=(6, 6))
 *     (classifier): Sequential(
 *       (0): Dropout(p=0.5)  (1): Linear(9216, 4096)  (2): ReLU
 *       (3): Dropout(p=0.5)  (4): Linear(4096, 4096)  (5): ReLU
 *       (6): Linear(4096, classes)))
 *
 * torchvision's forward flattens between avgpool and classifier with
 * torch.flatten(x, 1), a function call and no submodule: here it is an
 * unnamed Flatten step (no state name, not in the repr).
 *
 * VGG16 (configuration "D") has 13 3x3 convolutions with padding 1, each
 * followed by a ReLU, and a 2x2 max pooling after the 2nd, 4th, 7th, 10th
 * and 13th: features.0, .2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28; then
 * AdaptiveAvgPool2d(7, 7) and the classifier Linear(25088, 4096), ReLU,
 * Dropout, Linear(4096, 4096), ReLU, Dropout, Linear(4096, classes).
 *
 * Both keep PyTorch's default initialisation, as torchvision's AlexNet
 * does. torchvision's VGG redraws its weights from normal distributions;
 * here the models exist to receive pretrained weights, and 138 M normal
 * draws would take ten seconds for nothing.
 *
 * The _scaled forms divide every width (channels and hidden features) by
 * `divisor`, rounding up, keeping the names and the layer kinds: the tests
 * use AlexNet / 32 (0.2 M parameters against 61 M) so that its weight files
 * can be committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/module.h"

#define ZOO_MAX_LAYERS 40

/* Widths divided by the divisor, rounded up (never 0). */
static int64_t width(int64_t w, int divisor) { return (w + divisor - 1) / divisor; }

static bool check_args(const char *fn, int64_t classes, int divisor)
{
    if (classes <= 0 || classes > (1 << 24)) {
        pf_fail("%s: classes must be in 1..2^24 (got %lld)", fn, (long long)classes);
        return false;
    }
    if (divisor < 1 || divisor > 4096) {
        pf_fail("%s: the width divisor must be in 1..4096 (got %d)", fn, divisor);
        return false;
    }
    return true;
}

static pf_module *conv(pf_ctx *p, int64_t in, int64_t out, int k, int stride, int padding)
{
    return pf_nn_conv2d(p, in, out, k, &(pf_conv_opts){.stride = stride, .padding = padding});
}

/* features, avgpool, (flatten), classifier under the kind name. */
static pf_module *assemble(pf_ctx *p, const char *kind, pf_module *features, pf_module *avgpool,
                           pf_module *classifier)
{
    if (!features || !avgpool || !classifier)
        return NULL;
    const char *names[] = {"features", "avgpool", NULL, "classifier"};
    pf_module *parts[] = {features, avgpool, pf_nn_flatten(p, 1, -1), classifier};
    if (!parts[2])
        return NULL;
    return pf_nn_named_sequential(p, kind, 4, names, parts);
}

pf_module *pf_model_alexnet_scaled(pf_ctx *params, int64_t classes, int divisor)
{
    if (!params)
        return pf_fail("pf_model_alexnet: NULL context");
    if (!check_args("pf_model_alexnet", classes, divisor))
        return NULL;
    int64_t c1 = width(64, divisor), c2 = width(192, divisor), c3 = width(384, divisor), c4 = width(256, divisor),
            hidden = width(4096, divisor);
    pf_ctx *p = params;
    pf_module *features = pf_nn_sequential(p, PF_LAYERS(
        conv(p, 3, c1, 11, 4, 2), pf_nn_relu(p), pf_nn_max_pool2d(p, 3, 2, 0),
        conv(p, c1, c2, 5, 1, 2), pf_nn_relu(p), pf_nn_max_pool2d(p, 3, 2, 0),
        conv(p, c2, c3, 3, 1, 1), pf_nn_relu(p),
        conv(p, c3, c4, 3, 1, 1), pf_nn_relu(p),
        conv(p, c4, c4, 3, 1, 1), pf_nn_relu(p), pf_nn_max_pool2d(p, 3, 2, 0)));
    pf_module *avgpool = pf_nn_adaptive_avg_pool2d(p, 6, 6);
    pf_module *classifier = pf_nn_sequential(p, PF_LAYERS(
        pf_nn_dropout(p, 0.5), pf_nn_linear(p, c4 * 6 * 6, hidden, true), pf_nn_relu(p),
        pf_nn_dropout(p, 0.5), pf_nn_linear(p, hidden, hidden, true), pf_nn_relu(p),
        pf_nn_linear(p, hidden, classes, true)));
    return assemble(p, "AlexNet", features, avgpool, classifier);
}

pf_module *pf_model_alexnet(pf_ctx *params, int64_t classes)
{
    return pf_model_alexnet_scaled(params, classes, 1);
}

pf_module *pf_model_vgg16_scaled(pf_ctx *params, int64_t classes, int divisor)
{
    if (!params)
        return pf_fail("pf_model_vgg16: NULL context");
    if (!check_args("pf_model_vgg16", classes, divisor))
        return NULL;
    /* Configuration "D": channels, 0 for a max pooling. */
    static const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    pf_module *layers[ZOO_MAX_LAYERS];
    int n = 0;
    int64_t in = 3;
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) {
        if (cfg[i] == 0) {
            layers[n++] = pf_nn_max_pool2d(params, 2, 2, 0);
            continue;
        }
        int64_t out = width(cfg[i], divisor);
        layers[n++] = conv(params, in, out, 3, 1, 1);
        layers[n++] = pf_nn_relu(params);
        in = out;
    }
    for (int i = 0; i < n; i++)
        if (!layers[i])
            return NULL;
    pf_module *features = pf_nn_sequential(params, n, layers);
    pf_module *avgpool = pf_nn_adaptive_avg_pool2d(params, 7, 7);
    int64_t hidden = width(4096, divisor);
    pf_ctx *p = params;
    pf_module *classifier = pf_nn_sequential(p, PF_LAYERS(
        pf_nn_linear(p, in * 7 * 7, hidden, true), pf_nn_relu(p), pf_nn_dropout(p, 0.5),
        pf_nn_linear(p, hidden, hidden, true), pf_nn_relu(p), pf_nn_dropout(p, 0.5),
        pf_nn_linear(p, hidden, classes, true)));
    return assemble(p, "VGG", features, avgpool, classifier);
}

pf_module *pf_model_vgg16(pf_ctx *params, int64_t classes)
{
    return pf_model_vgg16_scaled(params, classes, 1);
}

/* "alexnet", "vgg16", optionally "/N" (widths divided by N). */
pf_module *pf_model_zoo_lookup(pf_ctx *params, const char *spec, bool *matched)
{
    static const struct {
        const char *name;
        pf_module *(*build)(pf_ctx *, int64_t, int);
    } zoo[] = {{"alexnet", pf_model_alexnet_scaled}, {"vgg16", pf_model_vgg16_scaled}};
    *matched = false;
    for (size_t i = 0; i < sizeof zoo / sizeof *zoo; i++) {
        size_t len = strlen(zoo[i].name);
        if (strncmp(spec, zoo[i].name, len) != 0 || (spec[len] != '\0' && spec[len] != '/'))
            continue;
        *matched = true;
        int divisor = 1;
        if (spec[len] == '/') {
            char *end;
            long v = strtol(spec + len + 1, &end, 10);
            if (spec[len + 1] < '0' || spec[len + 1] > '9' || *end != '\0' || v < 1 || v > 4096)
                return pf_fail("pf_model_from_spec: '%s': expected %s/N with a width divisor N in 1..4096", spec,
                               zoo[i].name);
            divisor = (int)v;
        }
        return zoo[i].build(params, 1000, divisor);
    }
    return NULL;
}
