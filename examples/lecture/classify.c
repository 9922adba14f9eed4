/*
 * classify.c — the slide "pretrained AlexNet":
 *
 *   img = torchvision.transforms.ToTensor()(PIL.Image.open('blacklab.jpg'))
 *   img = 0.5 + 0.5 * (img - img.mean()) / img.std()
 *   alexnet = torchvision.models.alexnet(pretrained = True)
 *   alexnet.eval()
 *   output = alexnet(img)
 *   scores, indexes = output.data.view(-1).sort(descending = True)
 *
 * printing the 15 best classes as "#1 (12.26) Weimaraner".
 *
 * The weights are torchvision's 244 MB file, which profond does not ship:
 * the experiment reads them from $PF_ALEXNET_WEIGHTS (a .pth as
 * downloaded, or safetensors). Without it, it writes a note saying how to
 * get them and succeeds, so that `profond lecture all` goes on (the page
 * names the file but links nowhere: it must work offline). The image
 * is $PF_CLASSIFY_IMAGE when set (a PNG or JPEG: the slide's was a black
 * Labrador), otherwise a generated test card, written as a PNG and read
 * back; it is fed whole, as the slide does (no resize, no crop),
 * normalised by its own mean and standard deviation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "lecture.h"

#define ALEXNET_URL "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
#define TOP 15

/* A 168 x 224 colour test card: colour gradients, stripes and a disc. */
static pf_tensor *test_card(pf_ctx *ctx)
{
    const int64_t h = 168, w = 224;
    pf_tensor *img = pf_zeros(ctx, PF_DIMS(1, 3, h, w));
    float *p = img ? pf_data_f32(img) : NULL;
    if (!p)
        return NULL;
    for (int64_t y = 0; y < h; y++) {
        for (int64_t x = 0; x < w; x++) {
            double dx = (double)x - 150, dy = (double)y - 84;
            bool disc = dx * dx + dy * dy < 50.0 * 50.0;
            bool stripe = (x / 12) % 2 == 0 && x < 80;
            double rgb[3] = {(double)x / (double)w, (double)y / (double)h, 0.5 + 0.5 * sin((double)(x + y) / 9)};
            if (disc)
                rgb[0] = 0.9, rgb[1] = 0.6, rgb[2] = 0.1;
            else if (stripe)
                rgb[0] = rgb[1] = rgb[2] = 0.05;
            for (int c = 0; c < 3; c++)
                p[(c * h + y) * w + x] = (float)rgb[c];
        }
    }
    return img;
}

int lecture_classify(lecture_run *run)
{
    pf_ctx *ctx = pf_ctx_new(0);
    const char *image_path = getenv("PF_CLASSIFY_IMAGE");
    if (!image_path || !image_path[0]) {
        pf_tensor *card = test_card(ctx);
        if (!card || !image_grid_png(lecture_path(run, "image.png"), card, 1, 0, 1, 1)) {
            pf_ctx_free(ctx);
            return lecture_fail(run, "the test card");
        }
        image_path = lecture_path(run, "image.png");
        lecture_figure(run, "image.png", "The image given to AlexNet: a generated test card (set PF_CLASSIFY_IMAGE "
                                         "to a PNG or JPEG of your own, such as the slide's black Labrador).");
    }
    char image[1100];
    snprintf(image, sizeof image, "%s", image_path);

    const char *weights = getenv("PF_ALEXNET_WEIGHTS");
    if (!weights || !weights[0]) {
        printf("classify: no weights. AlexNet's pretrained weights are torchvision's file (233 MB):\n"
               "  curl -LO " ALEXNET_URL "\n"
               "then run again with PF_ALEXNET_WEIGHTS=alexnet-owt-7be5be79.pth (or run\n"
               "  profond classify --weights alexnet-owt-7be5be79.pth IMAGE)\n");
        lecture_text(run, "weights", "absent");
        lecture_note(run,
                     "No pretrained weights were given, so nothing was classified. AlexNet's weights are "
                     "torchvision's file alexnet-owt-7be5be79.pth (233 MB, from download.pytorch.org/models/): "
                     "download it, then run `PF_ALEXNET_WEIGHTS=alexnet-owt-7be5be79.pth profond lecture "
                     "classify`, or `profond classify --weights alexnet-owt-7be5be79.pth IMAGE` for any PNG or "
                     "JPEG image.");
        pf_ctx_free(ctx);
        return 0;
    }

    pf_module *model = pf_model_alexnet(ctx, PF_IMAGENET_CLASSES);
    if (!model || !pf_module_load(model, weights)) {
        pf_ctx_free(ctx);
        return lecture_fail(run, "loading AlexNet's weights");
    }
    bool grad = pf_set_grad_enabled(false);
    pf_module_train(model, false);
    pf_tensor *x = pf_image_prepare(ctx, pf_image_load(ctx, image), &(pf_image_prep){0, 0, PF_NORM_SLIDE});
    pf_tensor *y = pf_forward(ctx, model, x);
    pf_set_grad_enabled(grad);
    float *logits = y ? pf_data_f32(y) : NULL;
    if (!logits) {
        pf_ctx_free(ctx);
        return lecture_fail(run, "classifying the image");
    }
    /* The 15 best, as output.sort(descending = True). */
    int order[PF_IMAGENET_CLASSES];
    for (int i = 0; i < PF_IMAGENET_CLASSES; i++)
        order[i] = i;
    for (int k = 0; k < TOP; k++)
        for (int j = k + 1; j < PF_IMAGENET_CLASSES; j++)
            if (logits[order[j]] > logits[order[k]]) {
                int t = order[k];
                order[k] = order[j];
                order[j] = t;
            }
    char ranking[TOP * 96] = "", line[128];
    double scores[TOP];
    for (int k = 0; k < TOP; k++) {
        snprintf(line, sizeof line, "#%d (%.2f) %s", k + 1, logits[order[k]], pf_imagenet_class(order[k]));
        printf("%s\n", line);
        strncat(ranking, line, sizeof ranking - strlen(ranking) - 2);
        strcat(ranking, "\n");
        scores[k] = logits[order[k]];
    }
    lecture_text(run, "weights", weights);
    lecture_text(run, "ranking", ranking);
    lecture_series(run, "top_scores", TOP, scores);
    lecture_note(run, "AlexNet's 15 best classes for the image, scores as on the slide (raw outputs): %s", ranking);
    pf_ctx_free(ctx);
    return 0;
}
