/*
 * cnn.c — the lecture's CNN trained on MNIST, once per output folder
 * (cnn.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnn.h"

#define QUICK_TRAIN 10000
#define DEFAULT_EPOCHS 2
#define QUICK_EPOCHS 1
#define BATCH 100

/* The first n examples of a dataset (views: nothing is copied). */
static void keep_first(pf_ctx *ctx, pf_dataset *d, int64_t n)
{
    if (d->count <= n)
        return;
    d->images = pf_narrow(ctx, d->images, 0, 0, n);
    d->labels = pf_narrow(ctx, d->labels, 0, 0, n);
    d->count = n;
}

bool lecture_cnn_test_batch(pf_ctx *ctx, const pf_dataset *test, int64_t n, pf_tensor **images,
                            pf_tensor **labels)
{
    pf_dataset first = *test;
    keep_first(ctx, &first, n);
    pf_loader *l = pf_loader_new(ctx, &first, (pf_loader_opts){.batch_size = first.count});
    return l && pf_loader_next(l, ctx, images, labels) && pf_ok();
}

bool lecture_cnn_predict(pf_module *model, pf_tensor *images, int64_t *answers)
{
    pf_ctx *step = pf_ctx_new(0);
    bool recording = pf_set_grad_enabled(false);
    const int64_t *a = pf_data_i64(pf_argmax(step, pf_forward(step, model, images), 1, false));
    pf_set_grad_enabled(recording);
    if (a)
        memcpy(answers, a, sizeof *answers * (size_t)images->shape[0]);
    pf_ctx_free(step);
    return a != NULL;
}

/* The error on every example of d; -1 on failure. */
static double test_error(pf_module *model, const pf_dataset *d)
{
    pf_ctx *ctx = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_loader *loader = ctx ? pf_loader_new(ctx, d, (pf_loader_opts){.batch_size = 1000}) : NULL;
    int64_t seen = 0, wrong = 0, answers[1000];
    pf_tensor *input, *target;
    while (loader && pf_ok() && pf_loader_next(loader, step, &input, &target)) {
        const int64_t *truth = pf_data_i64(target);
        if (!truth || !lecture_cnn_predict(model, input, answers))
            break;
        for (int64_t i = 0; i < target->shape[0]; i++, seen++)
            wrong += answers[i] != truth[i];
        pf_ctx_reset(step);
    }
    pf_ctx_free(step);
    pf_ctx_free(ctx);
    return loader && pf_ok() && seen == d->count && seen > 0 ? (double)wrong / (double)seen : -1;
}

/* SGD with momentum over the training set for `epochs` epochs. */
static bool train_network(lecture_run *run, pf_ctx *ctx, pf_module *model, const pf_dataset *data, int epochs)
{
    int n = 0;
    pf_tensor **params = pf_module_parameter_array(model, &n);
    pf_optim *opt = params ? pf_optim_sgd(ctx, n, params, (pf_sgd_opts){.lr = 0.01, .momentum = 0.9}) : NULL;
    pf_loader *loader =
        pf_loader_new(ctx, data, (pf_loader_opts){.batch_size = BATCH, .shuffle = true, .seed = run->seed});
    pf_ctx *step = pf_ctx_new(0);
    bool ok = opt && loader && step;
    pf_module_train(model, true);
    for (int e = 0; ok && e < epochs; e++) {
        double start = pf_profile_clock(), sum = 0;
        int64_t batches = 0;
        pf_tensor *input, *target;
        while (pf_loader_next(loader, step, &input, &target)) {
            pf_tensor *loss = pf_cross_entropy(step, pf_forward(step, model, input), target, PF_REDUCTION_MEAN);
            pf_optim_zero_grad(opt);
            pf_backward(loss);
            pf_optim_step(opt);
            sum += pf_item(loss);
            batches++;
            pf_ctx_reset(step);
            if (!pf_ok())
                break;
        }
        ok = pf_ok() && batches > 0 && isfinite(sum);
        if (ok)
            printf("  epoch %d: mean training loss %.4f (%.1f s)\n", e + 1, sum / (double)batches,
                   pf_profile_clock() - start);
        fflush(stdout);
    }
    pf_module_train(model, false);
    pf_ctx_free(step);
    if (!ok)
        lecture_fail(run, "training the network");
    return ok;
}

static bool make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST;
}

bool lecture_cnn_get(lecture_run *run, pf_ctx *ctx, lecture_cnn *out)
{
    memset(out, 0, sizeof *out);
    if (!pf_dataset_load(ctx, run->data, true, &out->train) || !pf_dataset_load(ctx, run->data, false, &out->test)) {
        lecture_fail(run, "loading the data");
        fprintf(stderr, "lecture %s: scripts/fetch-mnist.sh downloads MNIST into $PROFOND_DATA/mnist; "
                        "--data DIR names another folder of IDX files\n", run->name);
        return false;
    }
    pf_dataset train = out->train;
    if (run->quick)
        keep_first(ctx, &train, QUICK_TRAIN);
    out->epochs = run->epochs > 0 ? run->epochs : run->quick ? QUICK_EPOCHS : DEFAULT_EPOCHS;
    out->train_count = train.count;
    out->model = pf_model_from_spec(ctx, "lecture-cnn");
    if (!out->model) {
        lecture_fail(run, "making the network");
        return false;
    }

    /* OUT is the folder above run->dir. */
    char root[1024], dir[1100], path[1400];
    snprintf(root, sizeof root, "%s", run->dir);
    char *slash = strrchr(root, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(root, sizeof root, ".");
    snprintf(out->file, sizeof out->file, "models/lecture-cnn-%s-e%d-s%llu%s.safetensors", train.name, out->epochs,
             run->seed, run->quick ? "-quick" : "");
    snprintf(dir, sizeof dir, "%s/models", root);
    snprintf(path, sizeof path, "%s/%s", root, out->file);

    FILE *f = run->retrain ? NULL : fopen(path, "rb");
    if (f) {
        fclose(f);
        if (pf_module_load(out->model, path)) {
            out->reused = true;
            printf("the lecture's CNN, trained by an earlier experiment: %s (--retrain trains it again)\n", path);
        } else {
            printf("cannot reuse %s (%s): training again\n", path, pf_error());
            pf_error_clear();
        }
    }
    if (!out->reused) {
        printf("training the lecture's CNN on %lld %s digits for %d epoch%s (SGD, lr 0.01, momentum 0.9, "
               "batches of %d)\n", (long long)train.count, train.name, out->epochs, out->epochs > 1 ? "s" : "",
               BATCH);
        double start = pf_profile_clock();
        if (!train_network(run, ctx, out->model, &train, out->epochs))
            return false;
        out->seconds = pf_profile_clock() - start;
        if (!make_dir(dir) || !pf_module_save(out->model, path)) {
            printf("(could not keep the weights in %s: %s)\n", path, pf_error() ? pf_error() : "mkdir failed");
            pf_error_clear();
        }
    }
    pf_module_train(out->model, false);
    out->test_error = test_error(out->model, &out->test);
    if (out->test_error < 0) {
        lecture_fail(run, "testing the network");
        return false;
    }
    printf("test error: %.2f%% on %lld digits\n", 100 * out->test_error, (long long)out->test.count);
    return true;
}
