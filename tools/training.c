/*
 * training.c — the training loop behind `profond train` (and the lecture's
 * MNIST experiment): load the data, build the model and the optimizer, and
 * for each epoch run every batch through forward, loss, backward and step
 * in a step context reset at each batch; then measure the test error.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double evaluate_error(pf_module *model, const pf_dataset *data, int64_t batch)
{
    pf_ctx *step = pf_ctx_new(0), *ctx = pf_ctx_new(0);
    pf_loader *loader = pf_loader_new(ctx, data, (pf_loader_opts){.batch_size = batch});
    if (!step || !ctx || !loader) {
        pf_ctx_free(step);
        pf_ctx_free(ctx);
        return -1;
    }
    bool was_training = pf_module_is_training(model);
    bool was_recording = pf_set_grad_enabled(false);
    pf_module_train(model, false);
    int64_t wrong = 0, seen = 0;
    pf_tensor *x, *y;
    bool ok = true;
    while (ok && pf_loader_next(loader, step, &x, &y)) {
        pf_tensor *predicted = pf_argmax(step, pf_forward(step, model, x), 1, false);
        const int64_t *p = pf_data_i64(predicted), *t = pf_data_i64(y);
        ok = p && t;
        for (int64_t i = 0; ok && i < y->shape[0]; i++)
            wrong += p[i] != t[i];
        seen += ok ? y->shape[0] : 0;
        pf_ctx_reset(step);
    }
    pf_set_grad_enabled(was_recording);
    pf_module_train(model, was_training);
    pf_ctx_free(step);
    pf_ctx_free(ctx);
    if (!ok || !pf_ok())
        return -1;
    return seen ? (double)wrong / (double)seen : 0;
}

static void progress(int epoch, int64_t done, int64_t total, double loss)
{
    const int width = 30;
    int filled = (int)(width * done / (total ? total : 1));
    fprintf(stderr, "\repoch %d [%.*s%*s] %lld/%lld loss %.4f", epoch, filled, "==============================",
            width - filled, "", (long long)done, (long long)total, loss);
    fflush(stderr);
}

static void report_epoch(const train_config *c, const epoch_report *r)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "epoch", r->epoch);
        cJSON_AddNumberToObject(o, "train_loss", r->train_loss);
        cJSON_AddNumberToObject(o, "test_error", r->test_error);
        cJSON_AddNumberToObject(o, "seconds", r->seconds);
        char *text = cJSON_PrintUnformatted(o);
        if (text)
            printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else if (!c->quiet) {
        printf("epoch %2d  train loss %.4f  test error %5.2f%%  %6.2f s\n", r->epoch, r->train_loss,
               100 * r->test_error, r->seconds);
    }
    fflush(stdout);
}

static pf_optim *make_optimizer(const char *cmd, pf_ctx *ctx, pf_module *model, const train_config *c)
{
    int n;
    pf_tensor **params = pf_module_parameter_array(model, &n);
    if (!params)
        return NULL;
    if (strcmp(c->optim, "sgd") == 0)
        return pf_optim_sgd(ctx, n, params, (pf_sgd_opts){.lr = c->lr, .momentum = c->momentum});
    if (strcmp(c->optim, "adam") == 0)
        return pf_optim_adam(ctx, n, params, (pf_adam_opts){.lr = c->lr, .beta1 = c->momentum > 0 ? c->momentum : 0});
    fprintf(stderr, "profond %s: unknown optimizer '%s' (sgd or adam)\n", cmd, c->optim);
    return NULL;
}

/* One epoch over the training set; returns the mean loss, or NAN after
 * printing an error. */
static double train_epoch(const char *cmd, const train_config *c, int epoch, pf_module *model, pf_optim *opt,
                          pf_loader *loader, pf_ctx *step)
{
    bool bar = !c->json && !c->quiet && isatty(STDERR_FILENO);
    int64_t total = pf_loader_num_batches(loader), done = 0;
    double loss_sum = 0, last_draw = 0;
    pf_tensor *x, *y;
    double mark = pf_profile_clock();
    while (pf_loader_next(loader, step, &x, &y)) {
        /* With --profile, the loop's own parts are timed here; the library
         * times each layer's forward, each op's backward and the step. */
        pf_profile_add("data loading", PF_PROFILE_OTHER, pf_profile_clock() - mark);
        pf_tensor *output = pf_forward(step, model, x);
        mark = pf_profile_clock();
        pf_tensor *loss = pf_cross_entropy(step, output, y, PF_REDUCTION_MEAN);
        pf_profile_add("CrossEntropyLoss", PF_PROFILE_FORWARD, pf_profile_clock() - mark);
        mark = pf_profile_clock();
        pf_optim_zero_grad(opt);
        pf_profile_add("zero_grad", PF_PROFILE_OTHER, pf_profile_clock() - mark);
        if (!pf_backward(loss) || !pf_optim_step(opt)) {
            if (bar)
                fputc('\n', stderr);
            cli_fail(cmd, NULL);
            return NAN;
        }
        double value = pf_item(loss);
        if (!isfinite(value)) {
            if (bar)
                fputc('\n', stderr);
            /* "nan" or "inf" by name: %g printed "-nan" for a negative NaN. */
            fprintf(stderr, "profond %s: the loss became %s at epoch %d, batch %lld; try a smaller --lr\n", cmd,
                    isnan(value) ? "nan" : "inf", epoch, (long long)done + 1);
            return NAN;
        }
        loss_sum += value;
        done++;
        mark = pf_profile_clock();
        pf_ctx_reset(step);
        pf_profile_add("context reset", PF_PROFILE_OTHER, pf_profile_clock() - mark);
        if (bar && (now_seconds() - last_draw > 0.1 || done == total)) {
            progress(epoch, done, total, loss_sum / (double)done);
            last_draw = now_seconds();
        }
    }
    if (bar)
        fprintf(stderr, "\r%*s\r", 80, "");
    return done ? loss_sum / (double)done : 0;
}

int run_training(const char *cmd, const train_config *c)
{
    if (c->epochs < 1 || c->batch < 1 || c->lr < 0 || c->momentum < 0 || c->threads < 0 || c->seed < 0) {
        fprintf(stderr, "profond %s: --epochs and --batch must be at least 1; --lr, --momentum, --threads and "
                        "--seed cannot be negative\n", cmd);
        return 1;
    }
    if (c->threads > CLI_MAX_THREADS) {
        fprintf(stderr, "profond %s: --threads must be at most %d\n", cmd, CLI_MAX_THREADS);
        return 1;
    }
    if (c->threads > 0)
        pf_set_num_threads((int)c->threads);
    pf_manual_seed((uint64_t)c->seed);

    pf_ctx *data_ctx = pf_ctx_new(0), *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_dataset train, test;
    int status = 1;
    if (!data_ctx || !params || !step || !pf_dataset_load(data_ctx, c->data, true, &train) ||
        !pf_dataset_load(data_ctx, c->data, false, &test)) {
        cli_fail(cmd, NULL);
        goto done;
    }
    pf_module *model = pf_model_from_spec(params, c->model);
    /* A model without parameters failed in pf_backward with a message about
     * requires_grad that did not say what was wrong with the model. */
    if (model && pf_module_num_parameters(model) == 0) {
        fprintf(stderr, "profond %s: the model '%s' has no parameters to train\n", cmd, c->model);
        goto done;
    }
    pf_optim *opt = model ? make_optimizer(cmd, params, model, c) : NULL;
    pf_loader *loader = pf_loader_new(data_ctx, &train,
                                      (pf_loader_opts){.batch_size = c->batch, .shuffle = true,
                                                       .seed = (uint64_t)c->seed});
    if (!model || !opt || !loader) {
        if (!pf_ok())
            cli_fail(cmd, NULL);
        goto done;
    }
    if (!c->json && !c->quiet)
        printf("training %s on %s (%lld train / %lld test images), %s lr %g momentum %g, batch %lld, %d threads\n",
               c->model, train.name, (long long)train.count, (long long)test.count, c->optim, c->lr, c->momentum,
               (long long)c->batch, pf_get_num_threads());
    pf_profile_enable(c->profile);
    for (int epoch = 1; epoch <= c->epochs; epoch++) {
        double start = now_seconds();
        double loss = train_epoch(cmd, c, epoch, model, opt, loader, step);
        if (isnan(loss))
            goto done;
        double seconds = now_seconds() - start;
        if (c->profile) {
            FILE *out = c->json ? stderr : stdout;
            fprintf(out, "where epoch %d's %.2f s of training went:\n", epoch, seconds);
            pf_profile_fprint(out);
            pf_profile_reset();
        }
        pf_profile_enable(false); /* the evaluation is not part of the profile */
        double error = evaluate_error(model, &test, 1000);
        pf_profile_enable(c->profile);
        if (error < 0) {
            cli_fail(cmd, NULL);
            goto done;
        }
        epoch_report r = {epoch, loss, error, seconds};
        report_epoch(c, &r);
        if (c->on_epoch)
            c->on_epoch(&r, c->user);
    }
    if (c->save && !pf_module_save(model, c->save)) {
        cli_fail(cmd, NULL);
        goto done;
    }
    if (c->save && !c->json && !c->quiet)
        printf("saved the weights to %s\n", c->save);
    status = 0;
done:
    pf_ctx_free(step);
    pf_ctx_free(params);
    pf_ctx_free(data_ctx);
    return status;
}
