/*
 * mnist.c — slide "MNIST": the lecture trains a small convolutional network
 * on the 60,000 training digits of MNIST with this code, and says
 * "Temps d'apprentissage < 10 s, erreur ≃ 1%":
 *
 *     model = nn.Sequential(
 *         nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(3),
 *         nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
 *         Shape1D(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
 *     criterion = nn.CrossEntropyLoss()
 *     optimizer = torch.optim.SGD(model.parameters(), lr = 1e-2)
 *     for e in range(10):
 *         for input, target in data_loader_iterator(train_loader):
 *             output = model(input)
 *             loss = criterion(output, target)
 *             optimizer.zero_grad()
 *             loss.backward()
 *             optimizer.step()
 *
 * (DESIGN.md and the spec "lecture-cnn" have Linear(256, 200) and
 * Linear(200, 10); the slide's text has Linear(256, 256) and Linear(256, 10),
 * which this program follows.)
 *
 * lecture_mnist below is that program in C, line for line, with batches of
 * 100 shuffled digits. After each epoch it measures the mean training loss,
 * the error on the 10,000 test digits and the seconds the epoch's training
 * took, and draws them against the epoch next to the slide's two claims. It
 * also shows test digits with the network's answers, and the test digits it
 * gets wrong.
 *
 * Sizes: 10 epochs (or run->epochs). With run->budget (set by `profond
 * lecture all`), it stops before an epoch that would end past the budget,
 * and says so. Quick mode (tests): 2 epochs on the first 3,000 training
 * digits, error on the first 1,000 test digits.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image.h"
#include "lecture.h"
#include "plot.h"

#define SLIDE_EPOCHS 10
#define QUICK_EPOCHS 2
#define QUICK_TRAIN 3000
#define QUICK_TEST 1000
#define MAX_EPOCHS 1000
#define SHOWN 36 /* digits per image grid */

/* Floating-point operations to train on one digit, forward and backward:
 * the forward pass makes 1,348,096 multiply-adds (Conv2d(1,32,5) on 28x28:
 * 24·24·32·25 = 460,800; Conv2d(32,64,5) on 8x8: 4·4·64·800 = 819,200;
 * Linear(256,256) 65,536; Linear(256,10) 2,560), 2.7 Mflop; the backward
 * pass about twice that. */
#define FLOP_PER_DIGIT (3 * 2 * 1348096.0)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* n as text with thousands separated: "60,000". */
static const char *grouped(char buf[32], int64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)n), j = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && digits[i - 1] != '-' && (len - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

/* The first n examples of a dataset (views: nothing is copied). */
static void keep_first(pf_ctx *ctx, pf_dataset *d, int64_t n)
{
    if (d->count <= n)
        return;
    d->images = pf_narrow(ctx, d->images, 0, 0, n);
    d->labels = pf_narrow(ctx, d->labels, 0, 0, n);
    d->count = n;
}

/* The network's answer for every example of d, into predicted (d->count
 * values), in evaluation mode and without recording gradients; returns the
 * fraction it gets wrong, or -1 (pf_error() says why). */
static double test_error(pf_module *model, const pf_dataset *d, unsigned char *predicted)
{
    pf_ctx *ctx = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_loader *loader = ctx ? pf_loader_new(ctx, d, (pf_loader_opts){.batch_size = 1000}) : NULL;
    bool recording = pf_set_grad_enabled(false);
    pf_module_train(model, false);
    int64_t seen = 0, wrong = 0;
    pf_tensor *input, *target;
    while (loader && pf_ok() && pf_loader_next(loader, step, &input, &target)) {
        const int64_t *answer = pf_data_i64(pf_argmax(step, pf_forward(step, model, input), 1, false));
        const int64_t *truth = pf_data_i64(target);
        for (int64_t i = 0; answer && truth && i < target->shape[0]; i++, seen++) {
            predicted[seen] = (unsigned char)answer[i];
            wrong += answer[i] != truth[i];
        }
        pf_ctx_reset(step);
    }
    pf_module_train(model, true);
    pf_set_grad_enabled(recording);
    pf_ctx_free(step);
    pf_ctx_free(ctx);
    if (!loader || !pf_ok() || seen != d->count)
        return -1;
    return seen ? (double)wrong / (double)seen : 0;
}

/* Writes the images of d at the n indices as a grid of 12 columns. */
static bool digit_grid(lecture_run *run, const char *file, const pf_dataset *d, int n, const int64_t *indices)
{
    pf_ctx *ctx = pf_ctx_new(0);
    pf_tensor *index = ctx ? pf_from_i64(ctx, indices, PF_DIMS(n)) : NULL;
    pf_tensor *images = pf_index_select(ctx, d->images, 0, index);
    bool ok = images && image_grid_png(lecture_path(run, file), images, 12, 0, 255, 2);
    if (!images)
        lecture_fail(run, "selecting test digits");
    pf_ctx_free(ctx);
    return ok;
}

/* Appends the labels of n examples to a caption: "7 2 1 0 ..." or, with
 * `wrong`, "4→6, 9→4, ..." (true label → answer). */
static void append_labels(char *caption, size_t size, const pf_dataset *d, const unsigned char *predicted, int n,
                          const int64_t *indices, bool wrong)
{
    const int64_t *truth = pf_data_i64(d->labels);
    for (int i = 0; i < n && truth; i++) {
        size_t used = strlen(caption);
        int64_t k = indices[i];
        if (wrong)
            snprintf(caption + used, size - used, "%s%lld→%d", i ? ", " : "", (long long)truth[k], predicted[k]);
        else
            snprintf(caption + used, size - used, "%s%d%s", i ? " " : "", predicted[k],
                     predicted[k] != truth[k] ? "✗" : "");
    }
}

/* The training curves: loss, test error and cumulative training time per
 * epoch, each beside the slide's claim. */
static bool draw_curves(lecture_run *run, int epochs, int planned, const double *loss, const double *error,
                        const double *cumulative)
{
    double x[MAX_EPOCHS], top = 0;
    for (int e = 0; e < epochs; e++)
        x[e] = e + 1;
    plot *p = plot_open(lecture_path(run, "mnist.png"), 1000, 1100);
    if (!p)
        return false;
    plot_panels(p, 1, 3);
    /* The planned epochs (at least 5, for whole-number ticks), so that a
     * run stopped early shows where it stopped. */
    const double x0 = 0.5, x1 = (planned > 5 ? planned : 5) + 0.5, flat_x[2] = {x0, x1};

    for (int e = 0; e < epochs; e++)
        top = fmax(top, loss[e]);
    plot_axes(p, x0, x1, 0, top * 1.15, "epoch", "mean cross-entropy", "training loss");
    plot_line(p, epochs, x, loss, PLOT_BLUE, NULL);
    plot_points(p, epochs, x, loss, PLOT_BLUE, 2, NULL);

    top = 0;
    for (int e = 0; e < epochs; e++)
        top = fmax(top, error[e]);
    /* Room above the curves for the legends. */
    plot_axes(p, x0, x1, 0, fmax(2.5, top * 1.5), "epoch", "test error (%)", "test error");
    plot_line(p, epochs, x, error, PLOT_RED, NULL);
    plot_points(p, epochs, x, error, PLOT_RED, 2, "profond");
    plot_dashed_line(p, 2, flat_x, (const double[]){1, 1}, PLOT_BLACK, "slide: ≃ 1%");
    plot_legend(p);

    top = fmax(12, cumulative[epochs - 1] * 1.6);
    plot_axes(p, x0, x1, 0, top, "epoch", "seconds", "training time, cumulative");
    plot_line(p, epochs, x, cumulative, PLOT_GREEN, NULL);
    plot_points(p, epochs, x, cumulative, PLOT_GREEN, 2, "profond, this CPU");
    plot_dashed_line(p, 2, flat_x, (const double[]){10, 10}, PLOT_BLACK, "slide: < 10 s in all");
    plot_legend_at(p, PLOT_TOP_LEFT);
    return plot_close(p);
}

int lecture_mnist(lecture_run *run)
{
    const int planned = run->epochs > 0 ? run->epochs : run->quick ? QUICK_EPOCHS : SLIDE_EPOCHS;
    if (planned > MAX_EPOCHS) {
        fprintf(stderr, "lecture mnist: at most %d epochs\n", MAX_EPOCHS);
        return 1;
    }
    /* A budget applies only to the default length: asked-for epochs all run. */
    const double budget = run->epochs > 0 ? 0 : run->budget;
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    double loss_per_epoch[MAX_EPOCHS], error_per_epoch[MAX_EPOCHS], seconds[MAX_EPOCHS], cumulative[MAX_EPOCHS];
    unsigned char *predicted = NULL;
    int status = 1, epochs = 0;
    pf_dataset train, test;

    if (!data || !params || !step || !pf_dataset_load(data, run->data, true, &train) ||
        !pf_dataset_load(data, run->data, false, &test)) {
        lecture_fail(run, "loading the data");
        fprintf(stderr, "lecture mnist: scripts/fetch-mnist.sh downloads MNIST into $PROFOND_DATA/mnist; "
                        "--data DIR names another folder of IDX files\n");
        goto done;
    }
    if (run->quick) {
        keep_first(data, &train, QUICK_TRAIN);
        keep_first(data, &test, QUICK_TEST);
    }
    predicted = malloc((size_t)test.count);

    const bool mnist = strcmp(train.name, "mnist") == 0;
    const char *things = mnist ? "digits" : "images";

    /* The slide's program. */
    pf_module *model = pf_nn_sequential(params, PF_LAYERS(
        pf_nn_conv2d(params, 1, 32, 5, NULL), pf_nn_relu(params), pf_nn_max_pool2d(params, 3, 0, 0),
        pf_nn_conv2d(params, 32, 64, 5, NULL), pf_nn_relu(params), pf_nn_max_pool2d(params, 2, 0, 0),
        pf_nn_flatten(params, 1, -1), pf_nn_linear(params, 256, 256, true), pf_nn_relu(params),
        pf_nn_linear(params, 256, 10, true)));
    int n_params = 0;
    pf_tensor **parameters = model ? pf_module_parameter_array(model, &n_params) : NULL;
    pf_optim *optimizer = parameters ? pf_optim_sgd(params, n_params, parameters, (pf_sgd_opts){.lr = 1e-2}) : NULL;
    pf_loader *train_loader =
        pf_loader_new(data, &train, (pf_loader_opts){.batch_size = 100, .shuffle = true, .seed = run->seed});
    if (!predicted || !model || !optimizer || !train_loader || !pf_ok()) {
        lecture_fail(run, "making the network");
        goto done;
    }

    pf_module_fprint(stdout, model);
    printf("criterion: cross-entropy; optimizer: SGD lr 1e-2; batches of 100 of %lld %s training images, shuffled; "
           "%d threads\n", (long long)train.count, train.name, pf_get_num_threads());
    printf("epoch   train loss   test error   seconds (total)\n");
    const double start = now_seconds();
    for (int e = 0; e < planned; e++) {
        /* Under a budget: no epoch that would end past it (epochs take
         * about the same time, evaluation included). */
        double elapsed = now_seconds() - start;
        if (budget > 0 && e > 0 && elapsed + elapsed / e > budget)
            break;
        double epoch_start = now_seconds(), loss_sum = 0;
        int64_t batches = 0;
        pf_tensor *input, *target;
        while (pf_loader_next(train_loader, step, &input, &target)) {
            pf_tensor *output = pf_forward(step, model, input);
            pf_tensor *loss = pf_cross_entropy(step, output, target, PF_REDUCTION_MEAN);
            pf_optim_zero_grad(optimizer);
            pf_backward(loss);
            pf_optim_step(optimizer);
            loss_sum += pf_item(loss);
            batches++;
            pf_ctx_reset(step);
            if (!pf_ok())
                break;
        }
        if (!pf_ok()) {
            lecture_fail(run, "training");
            goto done;
        }
        seconds[e] = now_seconds() - epoch_start;
        cumulative[e] = (e ? cumulative[e - 1] : 0) + seconds[e];
        loss_per_epoch[e] = batches ? loss_sum / (double)batches : 0;
        double error = test_error(model, &test, predicted);
        if (error < 0) {
            lecture_fail(run, "testing");
            goto done;
        }
        if (!isfinite(loss_per_epoch[e])) {
            fprintf(stderr, "lecture mnist: the training loss became %s at epoch %d\n",
                    isnan(loss_per_epoch[e]) ? "nan" : "inf", e + 1);
            goto done;
        }
        error_per_epoch[e] = 100 * error;
        epochs = e + 1;
        printf("%5d   %10.4f   %9.2f%%   %7.2f (%.1f)\n", epochs, loss_per_epoch[e], error_per_epoch[e], seconds[e],
               cumulative[e]);
        fflush(stdout);
    }

    /* Numbers, rounded to what they mean. */
    for (int e = 0; e < epochs; e++) {
        loss_per_epoch[e] = round(loss_per_epoch[e] * 1e4) / 1e4;
        error_per_epoch[e] = round(error_per_epoch[e] * 100) / 100;
        seconds[e] = round(seconds[e] * 1000) / 1000;
        cumulative[e] = round(cumulative[e] * 1000) / 1000;
    }
    const double total = cumulative[epochs - 1], final_error = error_per_epoch[epochs - 1];
    lecture_number(run, "epochs", epochs);
    lecture_number(run, "train_images", (double)train.count);
    lecture_number(run, "test_images", (double)test.count);
    lecture_number(run, "threads", pf_get_num_threads());
    lecture_series(run, "train_loss", epochs, loss_per_epoch);
    lecture_series(run, "test_error_percent", epochs, error_per_epoch);
    lecture_series(run, "epoch_seconds", epochs, seconds);
    lecture_series(run, "cumulative_seconds", epochs, cumulative);
    lecture_number(run, "final_test_error_percent", final_error);
    lecture_number(run, "training_seconds", total);
    if (epochs < planned)
        lecture_number(run, "budget_seconds", budget);

    if (!draw_curves(run, epochs, planned, loss_per_epoch, error_per_epoch, cumulative))
        goto done;
    char caption[1024], n_train[32], n_test[32];
    snprintf(caption, sizeof caption,
             "The slide's network trained by SGD (lr 1e-2, batches of 100) for %d epoch%s on %s training %s: "
             "the mean training loss per epoch (top), the error on %s test %s after each epoch (middle, "
             "the slide: ≃ 1%%) and the training time so far (bottom, the slide: < 10 s for 10 epochs).",
             epochs, epochs > 1 ? "s" : "", grouped(n_train, train.count), things, grouped(n_test, test.count),
             things);
    lecture_figure(run, "mnist.png", caption);

    /* The first test digits with the network's answers, then the first it
     * gets wrong. */
    int64_t first[SHOWN], wrong[SHOWN];
    int n_first = test.count < SHOWN ? (int)test.count : SHOWN, n_wrong = 0;
    const int64_t *truth = pf_data_i64(test.labels);
    for (int i = 0; i < n_first; i++)
        first[i] = i;
    for (int64_t i = 0; truth && i < test.count && n_wrong < SHOWN; i++)
        if (predicted[i] != truth[i])
            wrong[n_wrong++] = i;
    if (!truth || !digit_grid(run, "digits.png", &test, n_first, first))
        goto done;
    snprintf(caption, sizeof caption, "The first %d test %s; the network answers, row by row: ", n_first, things);
    append_labels(caption, sizeof caption, &test, predicted, n_first, first, false);
    snprintf(caption + strlen(caption), sizeof caption - strlen(caption), ".");
    lecture_figure(run, "digits.png", caption);
    if (n_wrong > 0) {
        if (!digit_grid(run, "errors.png", &test, n_wrong, wrong))
            goto done;
        snprintf(caption, sizeof caption, "The first %d test %s the network gets wrong (true label → answer, "
                 "row by row): ", n_wrong, things);
        append_labels(caption, sizeof caption, &test, predicted, n_wrong, wrong, true);
        snprintf(caption + strlen(caption), sizeof caption - strlen(caption), ".");
        lecture_figure(run, "errors.png", caption);
    }

    /* What it says about the slide's claims. */
    if (run->quick)
        lecture_note(run, "Quick run: %d epoch%s on the first %s training %s, error on the first %s test %s — "
                     "not the slide's setting; `profond lecture mnist` trains for 10 epochs on all of them.",
                     epochs, epochs > 1 ? "s" : "", grouped(n_train, train.count), things,
                     grouped(n_test, test.count), things);
    if (!mnist)
        lecture_note(run, "Data: %s (from %s), not the slide's MNIST: its ≃ 1%% is not a target here.", train.name,
                     run->data);
    if (epochs < planned)
        lecture_note(run, "Stopped after %d of %d epochs to stay within this run's time budget of %.0f s "
                     "(`profond lecture mnist` alone has no budget).", epochs, planned, budget);
    lecture_note(run, "Test error after %d epoch%s: %.2f%% (the slide: ≃ 1%% after 10).", epochs,
                 epochs > 1 ? "s" : "", final_error);
    double flop = FLOP_PER_DIGIT * (double)train.count * epochs;
    lecture_note(run, "Training took %.1f s (%.1f s per epoch) on this machine's CPU with %d thread%s, about "
                 "%.0f Gflop/s. The slide's < 10 s for 10 epochs on 60,000 digits means about %.0f Gflop/s "
                 "(%.1f Tflop in all): a GPU's speed; the slide does not say on what it ran.",
                 total, total / epochs, pf_get_num_threads(), pf_get_num_threads() > 1 ? "s" : "",
                 total > 0 ? flop / total / 1e9 : 0, FLOP_PER_DIGIT * 60000 * 10 / 10 / 1e9,
                 FLOP_PER_DIGIT * 60000 * 10 / 1e12);
    status = 0;
done:
    free(predicted);
    pf_ctx_free(step);
    pf_ctx_free(params);
    pf_ctx_free(data);
    return status;
}
