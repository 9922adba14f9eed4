/*
 * cmd_classify.c — `profond classify --weights FILE IMAGE`: the lecture's
 * pretrained-AlexNet slide. Loads torchvision's AlexNet (or VGG16) weights
 * from a .pth or safetensors file, reads a PNG or JPEG image, resizes it
 * (shorter side 256), crops its centre (224 x 224), normalises it as the
 * slide does, 0.5 + 0.5 (img - img.mean()) / img.std(), or with ImageNet's
 * statistics (--imagenet-norm), and prints the best classes in the slide's
 * format:
 *   #1 (12.26) Weimaraner
 * The scores are the network's raw outputs (logits), as on the slide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Where torchvision's files are. */
static const struct {
    const char *model, *url;
} downloads[] = {
    {"alexnet", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"},
    {"vgg16", "https://download.pytorch.org/models/vgg16-397923af.pth"},
};

/* One line, as every error of profond: what is wrong and how to get the
 * weights. Returns the exit status. */
static int explain_weights(const char *model, const char *problem)
{
    const char *url = NULL;
    for (size_t i = 0; i < sizeof downloads / sizeof *downloads; i++)
        if (strcmp(model, downloads[i].model) == 0)
            url = downloads[i].url;
    if (url)
        fprintf(stderr,
                "profond classify: %s: the pretrained weights are torchvision's file %s; download it once "
                "(curl -LO %s) and pass it with --weights %s\n",
                problem, url, url, strrchr(url, '/') + 1);
    else
        fprintf(stderr, "profond classify: %s: pass the model's weights (a .pth or safetensors state_dict) with "
                        "--weights FILE\n",
                problem);
    return 2;
}

typedef struct ranked {
    float score;
    int index;
} ranked;

/* Best first, NaN last, ties by index (a total order, as qsort needs). */
static int by_score(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    bool na = a->score != a->score, nb = b->score != b->score;
    if (na != nb)
        return na ? 1 : -1;
    if (!na && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->index - b->index;
}

int cmd_classify(int argc, char **argv)
{
    const char *model_spec = "alexnet", *weights = NULL;
    int64_t top = 15, resize = 256, crop = 224, threads = 0;
    bool imagenet_norm = false;
    const cli_option options[] = {
        {"model", OPT_STRING, &model_spec, "SPEC", "alexnet (default), vgg16, or alexnet/N, vgg16/N (widths / N)"},
        {"weights", OPT_STRING, &weights, "FILE", "the model's weights, .pth or safetensors (required)"},
        {"top", OPT_INT, &top, "N", "how many classes to print (default 15, as the slide)"},
        {"imagenet-norm", OPT_FLAG, &imagenet_norm, NULL,
         "normalise with ImageNet's mean and std instead of the slide's 0.5 + 0.5 (img - mean) / std"},
        {"resize", OPT_INT, &resize, "N", "shorter side resized to N first, bilinear (default 256; 0: no resize)"},
        {"crop", OPT_INT, &crop, "N", "then the centre N x N square (default 224; 0: the whole image, as the slide)"},
        {"threads", OPT_INT, &threads, "N", "threads (default: $PF_THREADS or all cores)"},
        {0},
    };
    const cli_command cmd = {
        "classify", "--weights FILE [OPTIONS] IMAGE",
        "Classifies a PNG or JPEG image with a pretrained ImageNet model and prints the best classes\n"
        "with their scores, as the lecture's slide: #1 (12.26) Weimaraner.",
        options, 1};
    const char *positional[1];
    int n;
    int parsed = cli_parse(&cmd, argc, argv, positional, &n);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (n != 1) {
        fprintf(stderr, "profond classify: give one image (see profond classify --help)\n");
        return 2;
    }
    if (top < 1 || resize < 0 || resize > 16384 || crop < 0 || crop > 16384) {
        fprintf(stderr, "profond classify: --top must be at least 1, --resize and --crop in 0..16384\n");
        return 2;
    }
    if (threads < 0 || threads > CLI_MAX_THREADS) {
        fprintf(stderr, "profond classify: --threads must be between 0 (all cores) and %d\n", CLI_MAX_THREADS);
        return 2;
    }
    char base_model[32];
    snprintf(base_model, sizeof base_model, "%.*s", (int)strcspn(model_spec, "/"), model_spec);
    if (!weights)
        return explain_weights(base_model, "no weights given (--weights FILE)");
    struct stat st;
    if (stat(weights, &st) != 0) {
        char problem[1200];
        snprintf(problem, sizeof problem, "cannot find the weights file %s", weights);
        return explain_weights(base_model, problem);
    }
    if (threads > 0)
        pf_set_num_threads((int)threads);

    int status = 1;
    pf_ctx *params = pf_ctx_new(0), *ctx = pf_ctx_new(0);
    ranked *order = NULL;
    pf_module *model = pf_model_from_spec(params, model_spec);
    if (!model || !pf_module_load(model, weights)) {
        cli_fail("classify", NULL);
        goto done;
    }
    pf_set_grad_enabled(false);
    pf_module_train(model, false);
    pf_image_prep prep = {(int)resize, (int)crop, imagenet_norm ? PF_NORM_IMAGENET : PF_NORM_SLIDE};
    pf_tensor *img = pf_image_load(ctx, positional[0]);
    pf_tensor *x = pf_image_prepare(ctx, img, &prep);
    pf_tensor *y = pf_forward(ctx, model, x);
    if (!y) {
        cli_fail("classify", NULL);
        goto done;
    }
    int64_t classes = pf_numel(y);
    float *logits = pf_data_f32(pf_contiguous(ctx, y));
    order = malloc(sizeof *order * (size_t)classes);
    if (!logits || !order) {
        cli_fail("classify", order ? NULL : "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < classes; i++)
        order[i] = (ranked){logits[i], (int)i};
    qsort(order, (size_t)classes, sizeof *order, by_score);
    for (int64_t k = 0; k < top && k < classes; k++) {
        const char *name = classes == PF_IMAGENET_CLASSES ? pf_imagenet_class(order[k].index) : NULL;
        if (name)
            printf("#%lld (%.2f) %s\n", (long long)k + 1, order[k].score, name);
        else
            printf("#%lld (%.2f) class %d\n", (long long)k + 1, order[k].score, order[k].index);
    }
    status = 0;
done:
    free(order);
    pf_ctx_free(ctx);
    pf_ctx_free(params);
    return status;
}
