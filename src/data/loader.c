/*
 * loader.c — batches of a dataset, one at a time.
 *
 * Each call of pf_loader_next makes one batch in the (step) context it is
 * given: images float32 [B, 1, H, W] = (pixel/255 - mean)/std, computed in
 * float32 as torchvision's ToTensor and Normalize do, and labels int64 [B].
 * An epoch visits every example once, in order or, with shuffle, in a
 * Fisher-Yates permutation drawn from a pf_rng seeded with seed + epoch
 * (epochs count from 0): runs are reproducible and epochs differ. The loader
 * and its permutation live in the context given to pf_loader_new.
 */
#include <math.h>
#include <string.h>

#include "profond.h"
#include "tensor/tensor_internal.h"

/* Images ahead of the one being copied whose bytes are prefetched. */
#define LOADER_PREFETCH 4

struct pf_loader {
    pf_dataset data;          /* a copy of the caller's description */
    pf_loader_opts opts;
    int64_t count, height, width;
    int64_t *order;           /* the examples of this epoch, in visiting order */
    uint64_t epoch;           /* the current epoch, from 0 */
    bool in_epoch;            /* order is drawn and the epoch under way */
    int64_t position;         /* index in order of the next example */
    float normalised[256];    /* (v/255 - mean)/std for each byte value v */
};

/* Errors unless the dataset holds uint8 [N, H, W] images and int64 [N]
 * labels, contiguous on the CPU, and a usable mean and std. */
static bool check_dataset(const pf_dataset *d)
{
    char shape[160];
    const pf_tensor *x = d->images, *y = d->labels;
    if (!x || !y) {
        pf_fail("pf_loader_new: the dataset has no %s tensor", x ? "labels" : "images");
        return false;
    }
    if (x->dtype != PF_U8 || x->ndim != 3 || x->device != PF_CPU || !pf_is_contiguous(x)) {
        pf_fail("pf_loader_new: images are %s %s, expected contiguous uint8 [N, H, W] on the CPU",
                pf_dtype_name(x->dtype), pf_shape_str(x, shape, sizeof shape));
        return false;
    }
    if (y->dtype != PF_I64 || y->ndim != 1 || y->device != PF_CPU || !pf_is_contiguous(y) ||
        y->shape[0] != x->shape[0]) {
        pf_fail("pf_loader_new: labels are %s %s, expected contiguous int64 [%lld] on the CPU",
                pf_dtype_name(y->dtype), pf_shape_str(y, shape, sizeof shape), (long long)x->shape[0]);
        return false;
    }
    if (d->count != x->shape[0]) {
        pf_fail("pf_loader_new: the dataset's count is %lld but it holds %lld images", (long long)d->count,
                (long long)x->shape[0]);
        return false;
    }
    if (!isfinite(d->mean) || !isfinite(d->std) || !(d->std > 0)) {
        pf_fail("pf_loader_new: mean %g and std %g: std must be positive and both finite", (double)d->mean,
                (double)d->std);
        return false;
    }
    return true;
}

pf_loader *pf_loader_new(pf_ctx *ctx, const pf_dataset *data, pf_loader_opts opts)
{
    if (!ctx)
        return pf_fail("pf_loader_new: NULL context");
    if (!data)
        return pf_fail("pf_loader_new: NULL dataset");
    if (opts.batch_size < 1)
        return pf_fail("pf_loader_new: batch_size %lld (it must be at least 1)", (long long)opts.batch_size);
    if (!check_dataset(data))
        return NULL;
    pf_loader *l = pf_ctx_alloc_zeroed(ctx, sizeof *l);
    if (!l)
        return NULL;
    l->data = *data;
    l->opts = opts;
    l->count = data->images->shape[0];
    l->height = data->images->shape[1];
    l->width = data->images->shape[2];
    l->order = pf_ctx_alloc(ctx, sizeof(int64_t) * (size_t)(l->count ? l->count : 1));
    if (!l->order)
        return NULL;
    for (int v = 0; v < 256; v++) {
        float pixel = (float)v / 255.0f;
        l->normalised[v] = (pixel - data->mean) / data->std;
    }
    return l;
}

int64_t pf_loader_num_batches(const pf_loader *l)
{
    if (!l) {
        pf_fail("pf_loader_num_batches: NULL loader");
        return -1;
    }
    int64_t full = l->count / l->opts.batch_size;
    bool partial = l->count % l->opts.batch_size != 0;
    return full + (partial && !l->opts.drop_last);
}

/* Draws the order of the current epoch. */
static void start_epoch(pf_loader *l)
{
    for (int64_t i = 0; i < l->count; i++)
        l->order[i] = i;
    if (l->opts.shuffle) {
        pf_rng rng;
        pf_rng_seed(&rng, l->opts.seed + l->epoch);
        for (int64_t i = l->count - 1; i > 0; i--) { /* Fisher-Yates */
            int64_t j = (int64_t)pf_rng_below(&rng, (uint64_t)i + 1);
            int64_t swap = l->order[i];
            l->order[i] = l->order[j];
            l->order[j] = swap;
        }
    }
    l->position = 0;
    l->in_epoch = true;
}

bool pf_loader_next(pf_loader *l, pf_ctx *ctx, pf_tensor **images, pf_tensor **labels)
{
    if (images)
        *images = NULL;
    if (labels)
        *labels = NULL;
    if (!l || !ctx || !images || !labels) {
        pf_fail("pf_loader_next: NULL %s", !l ? "loader" : !ctx ? "context" : "output pointer");
        return false;
    }
    if (!l->in_epoch)
        start_epoch(l);
    int64_t left = l->count - l->position;
    if (left == 0 || (l->opts.drop_last && left < l->opts.batch_size)) {
        l->in_epoch = false;
        l->epoch++;
        return false;
    }
    int64_t batch = left < l->opts.batch_size ? left : l->opts.batch_size;
    pf_tensor *x = pf_empty(ctx, PF_F32, PF_DIMS(batch, 1, l->height, l->width));
    pf_tensor *y = pf_empty(ctx, PF_I64, PF_DIMS(batch));
    if (!x || !y)
        return false;

    size_t pixels = (size_t)(l->height * l->width);
    const uint8_t *all_images = pf_tensor_data(l->data.images);
    const int64_t *all_labels = pf_tensor_data(l->data.labels);
    float *out_images = pf_tensor_data(x);
    int64_t *out_labels = pf_tensor_data(y);
    for (int64_t b = 0; b < batch; b++) {
        /* A shuffled batch reads images from all over the dataset (47 MB
         * for MNIST): each would wait for memory, line after line, unless
         * asked for ahead (data loading took 0.11 ms of a 2.8 ms step). */
        if (b + LOADER_PREFETCH < batch) {
            const uint8_t *ahead = all_images + (size_t)l->order[l->position + b + LOADER_PREFETCH] * pixels;
            for (size_t at = 0; at < pixels; at += 64)
                __builtin_prefetch(ahead + at);
        }
        int64_t example = l->order[l->position + b];
        const uint8_t *src = all_images + (size_t)example * pixels;
        float *dst = out_images + (size_t)b * pixels;
        for (size_t k = 0; k < pixels; k++)
            dst[k] = l->normalised[src[k]];
        out_labels[b] = all_labels[example];
    }
    l->position += batch;
    *images = x;
    *labels = y;
    return true;
}
