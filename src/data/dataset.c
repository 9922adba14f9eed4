/*
 * dataset.c — MNIST-style data folders: finding one by name (pf_data_find)
 * and loading its training or test split (pf_dataset_load).
 *
 * A folder holds four IDX files, each plain or gzip-compressed (.gz):
 *   train-images-idx3-ubyte  train-labels-idx1-ubyte
 *   t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte
 * Images stay uint8 [N, H, W] (no float copy of the whole set: the loader
 * converts one batch at a time); labels become int64 [N]. mean and std are
 * those of the training pixels in [0, 1] units, whichever split is loaded,
 * so that test images are normalised exactly as training images were.
 * Nothing is cached between calls.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profond.h"
#include "tensor/tensor_internal.h"

/* The classes of MNIST and Fashion-MNIST: labels are 0..9. */
#define DATASET_CLASSES 10
/* Where Debian's dataset-fashion-mnist package puts its files. */
#define SYSTEM_FASHION_MNIST "/usr/share/datasets/fashion-mnist"
#define DATA_PATH_MAX 4096

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- finding a folder ----------------------------------------------------- */

bool pf_data_find(const char *name_or_dir, char *buf, size_t n)
{
    if (!name_or_dir || !*name_or_dir) {
        pf_fail("pf_data_find: empty name");
        return false;
    }
    if (!buf || n == 0) {
        pf_fail("pf_data_find: %s: no buffer for the result", name_or_dir);
        return false;
    }
    /* The places to look, in order. A bare name is looked up under the data
     * root first; anything with a slash is a folder taken as it is. */
    char candidates[3][DATA_PATH_MAX];
    int count = 0;
    const char *root = getenv("PROFOND_DATA");
    bool root_set = root && *root;
    if (!root_set)
        root = "data";
    if (!strchr(name_or_dir, '/')) {
        if (snprintf(candidates[count], DATA_PATH_MAX, "%s/%s", root, name_or_dir) < DATA_PATH_MAX)
            count++;
        if (strcmp(name_or_dir, "fashion-mnist") == 0)
            snprintf(candidates[count++], DATA_PATH_MAX, "%s", SYSTEM_FASHION_MNIST);
    }
    if (snprintf(candidates[count], DATA_PATH_MAX, "%s", name_or_dir) < DATA_PATH_MAX)
        count++;

    for (int i = 0; i < count; i++) {
        if (!is_directory(candidates[i]))
            continue;
        if (strlen(candidates[i]) >= n) {
            pf_fail("pf_data_find: %s: the path does not fit in a buffer of %zu bytes", candidates[i], n);
            return false;
        }
        strcpy(buf, candidates[i]);
        return true;
    }

    char looked[3 * DATA_PATH_MAX + 16] = "";
    for (int i = 0; i < count; i++) {
        strcat(looked, i ? ", " : "");
        strcat(looked, candidates[i]);
    }
    const char *hint = "";
    if (strcmp(name_or_dir, "mnist") == 0)
        hint = "; scripts/fetch-mnist.sh downloads MNIST into $PROFOND_DATA/mnist";
    else if (strcmp(name_or_dir, "fashion-mnist") == 0)
        hint = "; apt-get install dataset-fashion-mnist provides " SYSTEM_FASHION_MNIST;
    pf_fail("pf_data_find: no data folder for \"%s\": looked in %s (PROFOND_DATA is %s)%s", name_or_dir, looked,
            root_set ? root : "unset: \"data\" used", hint);
    return false;
}

/* ---- loading a split ------------------------------------------------------ */

/* Loads DIR/SPLIT-PART, or DIR/SPLIT-PART.gz when the plain file is absent. */
static pf_tensor *load_part(pf_ctx *ctx, const char *dir, const char *split, const char *part)
{
    char path[DATA_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s-%s", dir, split, part) >= (int)sizeof path - 3)
        return pf_fail("pf_dataset_load: %s: path too long", dir);
    if (!is_regular_file(path)) {
        strcat(path, ".gz");
        if (!is_regular_file(path))
            return pf_fail("pf_dataset_load: %s: neither %s-%s nor %s-%s.gz is there", dir, split, part, split,
                           part);
    }
    return pf_idx_load(ctx, path);
}

/* Errors unless images are uint8 [N, H, W]. */
static bool check_images(const char *dir, const char *split, const pf_tensor *images)
{
    if (images->dtype != PF_U8 || images->ndim != 3) {
        char shape[160];
        pf_fail("pf_dataset_load: %s: %s images are %s %s, expected uint8 [N, H, W]", dir, split,
                pf_dtype_name(images->dtype), pf_shape_str(images, shape, sizeof shape));
        return false;
    }
    return true;
}

/* The labels as int64 [N] in ctx, each checked to lie in 0..classes-1. */
static pf_tensor *int64_labels(pf_ctx *ctx, const char *dir, const char *split, const pf_tensor *raw,
                               int64_t count)
{
    char shape[160];
    pf_shape_str(raw, shape, sizeof shape);
    if (raw->ndim != 1 || (raw->dtype != PF_U8 && raw->dtype != PF_I64))
        return pf_fail("pf_dataset_load: %s: %s labels are %s %s, expected integers [N]", dir, split,
                       pf_dtype_name(raw->dtype), shape);
    if (raw->shape[0] != count)
        return pf_fail("pf_dataset_load: %s: %lld %s labels for %lld images", dir, (long long)raw->shape[0],
                       split, (long long)count);
    pf_tensor *labels = pf_empty(ctx, PF_I64, 1, &count);
    if (!labels)
        return NULL;
    int64_t *out = pf_tensor_data(labels);
    for (int64_t i = 0; i < count; i++) {
        out[i] = raw->dtype == PF_U8 ? ((const uint8_t *)pf_tensor_data(raw))[i]
                                     : ((const int64_t *)pf_tensor_data(raw))[i];
        if (out[i] < 0 || out[i] >= DATASET_CLASSES)
            return pf_fail("pf_dataset_load: %s: %s label %lld at index %lld is outside 0..%d", dir, split,
                           (long long)out[i], (long long)i, DATASET_CLASSES - 1);
    }
    return labels;
}

/* Mean and standard deviation (divisor N - 1, as torch.std) of the pixels
 * in [0, 1] units, from a histogram of byte values. Four histograms filled
 * in turn keep runs of equal pixels from serialising on one counter. */
static bool pixel_stats(const char *dir, const pf_tensor *images, float *mean, float *std)
{
    size_t n = (size_t)pf_numel(images);
    if (n < 2) {
        pf_fail("pf_dataset_load: %s: %zu training pixels: too few for a mean and a standard deviation", dir, n);
        return false;
    }
    const uint8_t *p = pf_tensor_data(images);
    uint64_t counts[4][256] = {{0}};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        counts[0][p[i]]++;
        counts[1][p[i + 1]]++;
        counts[2][p[i + 2]]++;
        counts[3][p[i + 3]]++;
    }
    for (; i < n; i++)
        counts[0][p[i]]++;
    double sum = 0;
    for (int v = 0; v < 256; v++)
        sum += (v / 255.0) * (double)(counts[0][v] + counts[1][v] + counts[2][v] + counts[3][v]);
    double m = sum / (double)n, squares = 0;
    for (int v = 0; v < 256; v++) {
        double d = v / 255.0 - m;
        squares += d * d * (double)(counts[0][v] + counts[1][v] + counts[2][v] + counts[3][v]);
    }
    *mean = (float)m;
    *std = (float)sqrt(squares / (double)(n - 1));
    return true;
}

/* The last component of a path, trailing slashes ignored. */
static void folder_name(const char *dir, char *out, size_t n)
{
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    size_t length = end - start < n - 1 ? end - start : n - 1;
    memcpy(out, dir + start, length);
    out[length] = '\0';
}

/* The body of pf_dataset_load; scratch holds what is only needed here (the
 * raw labels, and the training images when the test split is loaded). */
static bool load_split(pf_ctx *ctx, pf_ctx *scratch, const char *dir, bool train, pf_dataset *out)
{
    const char *split = train ? "train" : "t10k";
    pf_tensor *images = load_part(ctx, dir, split, "images-idx3-ubyte");
    if (!images || !check_images(dir, split, images))
        return false;
    pf_tensor *raw_labels = load_part(scratch, dir, split, "labels-idx1-ubyte");
    if (!raw_labels)
        return false;
    pf_tensor *labels = int64_labels(ctx, dir, split, raw_labels, images->shape[0]);
    if (!labels)
        return false;
    pf_tensor *train_images = images;
    if (!train) {
        train_images = load_part(scratch, dir, "train", "images-idx3-ubyte");
        if (!train_images || !check_images(dir, "train", train_images))
            return false;
    }
    if (!pixel_stats(dir, train_images, &out->mean, &out->std))
        return false;
    out->images = images;
    out->labels = labels;
    out->count = images->shape[0];
    out->classes = DATASET_CLASSES;
    folder_name(dir, out->name, sizeof out->name);
    return true;
}

bool pf_dataset_load(pf_ctx *ctx, const char *name_or_dir, bool train, pf_dataset *out)
{
    if (!out) {
        pf_fail("pf_dataset_load: NULL output");
        return false;
    }
    memset(out, 0, sizeof *out);
    if (!ctx) {
        pf_fail("pf_dataset_load: NULL context");
        return false;
    }
    char dir[DATA_PATH_MAX];
    if (!pf_data_find(name_or_dir, dir, sizeof dir))
        return false;
    pf_ctx *scratch = pf_ctx_new(0);
    if (!scratch)
        return false;
    pf_dataset loaded;
    memset(&loaded, 0, sizeof loaded);
    bool ok = load_split(ctx, scratch, dir, train, &loaded);
    pf_ctx_free(scratch);
    if (ok)
        *out = loaded;
    return ok;
}
