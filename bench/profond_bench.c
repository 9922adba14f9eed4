/*
 * profond_bench.c — the profond side of the benchmarks in bench/: one
 * subcommand per benchmark, using only the public header, printing one JSON
 * object per line as bench/pytorch/torch_bench.py does for PyTorch (same
 * subcommands, options, models, data and output), so that bench/run.py can
 * run the two alike and compare them.
 *
 *   train-epoch --model lecture-cnn|mlp --batch N --epochs N --threads T
 *       SGD (lr 0.01) on MNIST after --warmup untimed steps; a line
 *       {"epoch", "seconds", "train_loss"} per epoch, then {"max_rss_kb"}.
 *       --steps N cuts each epoch to N steps (quick trials).
 *   memory --threads T
 *       train-epoch of the lecture CNN, batch 100, one epoch: the last line
 *       is the peak resident set size (getrusage) of the whole run.
 *   infer --model lecture-cnn --batch N --threads T --seconds S
 *       images per second of forwards on test images (evaluation mode,
 *       no tape), timed for S seconds after two warm-up forwards.
 *   latency --threads T --seconds S
 *       median time of a one-image forward of the lecture CNN.
 *   alexnet --batch N --threads T --seconds S
 *       median time of a forward of torchvision's AlexNet (random weights,
 *       random 3x224x224 input, evaluation mode).
 *   time-to-99 --optim sgd|adam --lr X --momentum M
 *              --schedule constant|one-cycle --batch N --epochs N --threads T
 *       trains the lecture CNN, measuring test accuracy after each epoch;
 *       stops at 99.0% and reports the training time (evaluation excluded).
 *
 * MNIST comes from $PROFOND_DATA/mnist through pf_dataset_load and
 * pf_loader (shuffled, each batch normalised as (pixel/255 - mean)/std).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <profond.h>

typedef struct options {
    const char *model;     /* lecture-cnn or mlp */
    long batch;
    long epochs;
    long warmup;           /* untimed training steps before the first epoch */
    long steps;            /* 0: whole epochs; else this many steps each (quick runs) */
    long threads;          /* 0: profond's default */
    double seconds;        /* how long to repeat forwards */
    long seed;
    const char *optim;     /* time-to-99: sgd or adam */
    double lr, momentum;
    const char *schedule;  /* time-to-99: constant or one-cycle */
} options;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Prints profond's error (or msg) and ends the program. */
static _Noreturn void die(const char *msg)
{
    fprintf(stderr, "profond_bench: %s\n", msg ? msg : pf_error() ? pf_error() : "failed");
    exit(1);
}

static long max_rss_kb(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, size_t n)
{
    qsort(values, n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* ---- data and models ---- */

static void load_mnist(pf_ctx *ctx, bool train, pf_dataset *out)
{
    if (!pf_dataset_load(ctx, "mnist", train, out))
        die(NULL);
}

static pf_module *make_model(pf_ctx *params, const char *name)
{
    if (strcmp(name, "lecture-cnn") != 0 && strcmp(name, "mlp") != 0)
        die("--model must be lecture-cnn or mlp");
    pf_module *model = pf_model_from_spec(params, name);
    if (!model)
        die(NULL);
    return model;
}

/* torchvision's AlexNet: features, 6x6 average pooling, classifier. */
static pf_module *make_alexnet(pf_ctx *p)
{
    pf_module *model = pf_nn_sequential(p, PF_LAYERS(
        pf_nn_conv2d(p, 3, 64, 11, &(pf_conv_opts){.stride = 4, .padding = 2}), pf_nn_relu(p),
        pf_nn_max_pool2d(p, 3, 2, 0),
        pf_nn_conv2d(p, 64, 192, 5, &(pf_conv_opts){.padding = 2}), pf_nn_relu(p),
        pf_nn_max_pool2d(p, 3, 2, 0),
        pf_nn_conv2d(p, 192, 384, 3, &(pf_conv_opts){.padding = 1}), pf_nn_relu(p),
        pf_nn_conv2d(p, 384, 256, 3, &(pf_conv_opts){.padding = 1}), pf_nn_relu(p),
        pf_nn_conv2d(p, 256, 256, 3, &(pf_conv_opts){.padding = 1}), pf_nn_relu(p),
        pf_nn_max_pool2d(p, 3, 2, 0),
        pf_nn_adaptive_avg_pool2d(p, 6, 6), pf_nn_flatten(p, 1, -1),
        pf_nn_dropout(p, 0.5), pf_nn_linear(p, 9216, 4096, true), pf_nn_relu(p),
        pf_nn_dropout(p, 0.5), pf_nn_linear(p, 4096, 4096, true), pf_nn_relu(p),
        pf_nn_linear(p, 4096, 1000, true)));
    if (!model)
        die(NULL);
    return model;
}

static pf_optim *make_optimizer(pf_ctx *params, pf_module *model, const options *o)
{
    int n;
    pf_tensor **list = pf_module_parameter_array(model, &n);
    pf_optim *opt = NULL;
    if (strcmp(o->optim, "sgd") == 0)
        opt = pf_optim_sgd(params, n, list, (pf_sgd_opts){.lr = o->lr, .momentum = o->momentum});
    else if (strcmp(o->optim, "adam") == 0)
        opt = pf_optim_adam(params, n, list, (pf_adam_opts){.lr = o->lr, .beta1 = o->momentum});
    else
        die("--optim must be sgd or adam");
    if (!opt)
        die(NULL);
    return opt;
}

/* ---- training and evaluation ---- */

/* One SGD step on a batch, in the step context (reset here); the loss. */
static double train_step(pf_module *model, pf_optim *opt, pf_ctx *step, pf_tensor *x, pf_tensor *y)
{
    pf_tensor *loss = pf_cross_entropy(step, pf_forward(step, model, x), y, PF_REDUCTION_MEAN);
    pf_optim_zero_grad(opt);
    if (!pf_backward(loss) || !pf_optim_step(opt))
        die(NULL);
    double value = pf_item(loss);
    pf_ctx_reset(step);
    return value;
}

/* One epoch (or the first `limit` steps when limit > 0); the mean loss.
 * With a schedule, its value at step *t is applied before each step. */
static double train_pass(pf_module *model, pf_optim *opt, pf_loader *loader, pf_ctx *step, long limit,
                         const pf_schedule *schedule, int64_t *t)
{
    double total = 0;
    long count = 0;
    pf_tensor *x, *y;
    while (pf_loader_next(loader, step, &x, &y)) {
        if (schedule) {
            pf_schedule_apply(schedule, opt, (*t)++);
            if (!pf_ok())
                die(NULL);
        }
        total += train_step(model, opt, step, x, y);
        count++;
        if (limit > 0 && count >= limit)
            break;
    }
    if (!pf_ok())
        die(NULL);
    return count ? total / (double)count : 0;
}

/* Fraction of the test set classified right (evaluation mode, no tape). */
static double test_accuracy(pf_module *model, const pf_dataset *test)
{
    pf_ctx *ctx = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_loader *loader = pf_loader_new(ctx, test, (pf_loader_opts){.batch_size = 1000});
    if (!loader)
        die(NULL);
    bool was_recording = pf_set_grad_enabled(false);
    pf_module_train(model, false);
    int64_t right = 0;
    pf_tensor *x, *y;
    while (pf_loader_next(loader, step, &x, &y)) {
        pf_tensor *predicted = pf_argmax(step, pf_forward(step, model, x), 1, false);
        const int64_t *p = pf_data_i64(predicted), *label = pf_data_i64(y);
        if (!p || !label)
            die(NULL);
        for (int64_t i = 0; i < y->shape[0]; i++)
            right += p[i] == label[i];
        pf_ctx_reset(step);
    }
    pf_module_train(model, true);
    pf_set_grad_enabled(was_recording);
    pf_ctx_free(step);
    pf_ctx_free(ctx);
    return (double)right / (double)test->count;
}

/* ---- timed forwards ---- */

/* The whole test set as one float32 tensor [N, 1, 28, 28], normalised as
 * the loader does (made in ctx). */
static pf_tensor *test_images(pf_ctx *ctx)
{
    pf_dataset test;
    load_mnist(ctx, false, &test);
    pf_loader *loader = pf_loader_new(ctx, &test, (pf_loader_opts){.batch_size = test.count});
    pf_tensor *x, *y;
    if (!loader || !pf_loader_next(loader, ctx, &x, &y))
        die(NULL);
    return x;
}

/* Forwards of model in evaluation mode without tape: two warm-up ones, then
 * as many as fit in `seconds` (at least min_runs). The inputs are the
 * successive slices of `batch` images (views, no copy), cycling over the
 * images. Returns the per-forward times (malloc'ed; *n of them). */
static double *timed_forwards(pf_module *model, pf_tensor *images, int64_t batch, double seconds, size_t min_runs,
                              size_t *n)
{
    pf_ctx *step = pf_ctx_new(0);
    int64_t per_pass = images->shape[0] / batch;
    if (!step || per_pass < 1)
        die(step ? "--batch is larger than the input" : NULL);
    pf_module_train(model, false);
    pf_set_grad_enabled(false);
    size_t count = 0, capacity = 1024;
    double *times = malloc(capacity * sizeof *times);
    if (!times)
        die("out of memory");
    double start = 0;
    for (int64_t i = -2;; i++) {
        if (i == 0)
            start = now_seconds();
        if (i >= 0 && now_seconds() - start >= seconds && count >= min_runs)
            break;
        int64_t first = ((i + 2) % per_pass) * batch;
        double t0 = now_seconds();
        pf_tensor *out = pf_forward(step, model, pf_narrow(step, images, 0, first, batch));
        double t1 = now_seconds();
        if (!out)
            die(NULL);
        pf_ctx_reset(step);
        if (i < 0)
            continue;
        if (count == capacity) {
            capacity *= 2;
            double *bigger = realloc(times, capacity * sizeof *times);
            if (!bigger)
                die("out of memory");
            times = bigger;
        }
        times[count++] = t1 - t0;
    }
    pf_ctx_free(step);
    *n = count;
    return times;
}

/* ---- subcommands ---- */

static int cmd_train_epoch(const options *o)
{
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_dataset train;
    load_mnist(data, true, &train);
    pf_module *model = make_model(params, o->model);
    options sgd = *o;
    sgd.optim = "sgd";
    sgd.lr = 0.01;
    sgd.momentum = 0;
    pf_optim *opt = make_optimizer(params, model, &sgd);
    pf_loader_opts lo = {.batch_size = o->batch, .shuffle = true, .seed = (uint64_t)o->seed};
    pf_loader *warmup = pf_loader_new(data, &train, lo), *loader = pf_loader_new(data, &train, lo);
    if (!warmup || !loader)
        die(NULL);
    /* Untimed steps first: the first steps grow the contexts. */
    if (o->warmup > 0)
        train_pass(model, opt, warmup, step, o->warmup, NULL, NULL);
    for (long epoch = 1; epoch <= o->epochs; epoch++) {
        double start = now_seconds();
        double loss = train_pass(model, opt, loader, step, o->steps, NULL, NULL);
        printf("{\"epoch\": %ld, \"seconds\": %.6f, \"train_loss\": %.6f}\n", epoch, now_seconds() - start, loss);
        fflush(stdout);
    }
    printf("{\"max_rss_kb\": %ld}\n", max_rss_kb());
    pf_ctx_free(step);
    pf_ctx_free(params);
    pf_ctx_free(data);
    return 0;
}

static int cmd_infer(const options *o)
{
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0);
    pf_tensor *images = test_images(data);
    pf_module *model = make_model(params, o->model);
    size_t n;
    double *times = timed_forwards(model, images, o->batch, o->seconds, 3, &n);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += times[i];
    printf("{\"batch\": %ld, \"forwards\": %zu, \"images_per_second\": %.3f}\n", o->batch, n,
           (double)o->batch * (double)n / total);
    free(times);
    pf_ctx_free(params);
    pf_ctx_free(data);
    return 0;
}

static int cmd_latency(const options *o)
{
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0);
    pf_tensor *images = test_images(data);
    pf_module *model = make_model(params, "lecture-cnn");
    size_t n;
    double *times = timed_forwards(model, images, 1, o->seconds, 20, &n);
    printf("{\"forwards\": %zu, \"median_ms\": %.6f}\n", n, 1e3 * median(times, n));
    free(times);
    pf_ctx_free(params);
    pf_ctx_free(data);
    return 0;
}

static int cmd_alexnet(const options *o)
{
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0);
    pf_module *model = make_alexnet(params);
    pf_tensor *x = pf_randn(data, PF_DIMS(o->batch, 3, 224, 224));
    if (!x)
        die(NULL);
    size_t n;
    double *times = timed_forwards(model, x, o->batch, o->seconds, 5, &n);
    printf("{\"batch\": %ld, \"forwards\": %zu, \"median_ms\": %.6f}\n", o->batch, n, 1e3 * median(times, n));
    free(times);
    pf_ctx_free(params);
    pf_ctx_free(data);
    return 0;
}

static int cmd_time_to_99(const options *o)
{
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_dataset train, test;
    load_mnist(data, true, &train);
    load_mnist(data, false, &test);
    pf_module *model = make_model(params, "lecture-cnn");
    pf_optim *opt = make_optimizer(params, model, o);
    pf_loader *loader = pf_loader_new(data, &train, (pf_loader_opts){.batch_size = o->batch, .shuffle = true,
                                                                     .seed = (uint64_t)o->seed});
    if (!loader)
        die(NULL);
    pf_schedule one_cycle = {.kind = PF_SCHEDULE_ONE_CYCLE, .lr = o->lr,
                             .t_max = o->epochs * pf_loader_num_batches(loader)};
    const pf_schedule *schedule = NULL;
    if (strcmp(o->schedule, "one-cycle") == 0)
        schedule = &one_cycle;
    else if (strcmp(o->schedule, "constant") != 0)
        die("--schedule must be constant or one-cycle");
    int64_t t = 0;
    double elapsed = 0;
    for (long epoch = 1; epoch <= o->epochs; epoch++) {
        double start = now_seconds();
        double loss = train_pass(model, opt, loader, step, o->steps, schedule, &t);
        elapsed += now_seconds() - start;
        double accuracy = test_accuracy(model, &test);
        printf("{\"epoch\": %ld, \"seconds\": %.6f, \"train_loss\": %.6f, \"test_accuracy\": %.4f}\n", epoch, elapsed,
               loss, accuracy);
        fflush(stdout);
        if (accuracy >= 0.99) {
            printf("{\"reached\": true, \"epochs\": %ld, \"seconds\": %.6f}\n", epoch, elapsed);
            return 0;
        }
    }
    printf("{\"reached\": false, \"epochs\": %ld, \"seconds\": %.6f}\n", o->epochs, elapsed);
    return 0;
}

/* ---- options ---- */

static long parse_long(const char *name, const char *text, long min)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min) {
        fprintf(stderr, "profond_bench: --%s wants an integer >= %ld, not '%s'\n", name, min, text);
        exit(2);
    }
    return v;
}

static double parse_double(const char *name, const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(v >= 0)) {
        fprintf(stderr, "profond_bench: --%s wants a number >= 0, not '%s'\n", name, text);
        exit(2);
    }
    return v;
}

static void usage(FILE *f)
{
    fputs("usage: profond_bench COMMAND [--OPTION VALUE ...]\n"
          "commands: train-epoch memory infer latency alexnet time-to-99\n"
          "options (defaults): --model lecture-cnn --batch 100 --epochs 1 --warmup 20 --steps 0 --threads 0\n"
          "  --seconds 2 --seed 0 --optim sgd --lr 0.05 --momentum 0.9 --schedule constant\n"
          "Results are JSON lines on standard output; MNIST is read from $PROFOND_DATA/mnist.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    options o = {.model = "lecture-cnn", .batch = 100, .epochs = 1, .warmup = 20, .seconds = 2, .optim = "sgd",
                 .lr = 0.05, .momentum = 0.9, .schedule = "constant"};
    for (int i = 2; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strncmp(name, "--", 2) != 0 || !value) {
            fprintf(stderr, "profond_bench: expected --OPTION VALUE, got '%s'\n", name);
            return 2;
        }
        name += 2;
        if (strcmp(name, "model") == 0)
            o.model = value;
        else if (strcmp(name, "batch") == 0)
            o.batch = parse_long(name, value, 1);
        else if (strcmp(name, "epochs") == 0)
            o.epochs = parse_long(name, value, 1);
        else if (strcmp(name, "warmup") == 0)
            o.warmup = parse_long(name, value, 0);
        else if (strcmp(name, "steps") == 0)
            o.steps = parse_long(name, value, 0);
        else if (strcmp(name, "threads") == 0)
            o.threads = parse_long(name, value, 0);
        else if (strcmp(name, "seconds") == 0)
            o.seconds = parse_double(name, value);
        else if (strcmp(name, "seed") == 0)
            o.seed = parse_long(name, value, 0);
        else if (strcmp(name, "optim") == 0)
            o.optim = value;
        else if (strcmp(name, "lr") == 0)
            o.lr = parse_double(name, value);
        else if (strcmp(name, "momentum") == 0)
            o.momentum = parse_double(name, value);
        else if (strcmp(name, "schedule") == 0)
            o.schedule = value;
        else {
            fprintf(stderr, "profond_bench: unknown option --%s\n", name);
            usage(stderr);
            return 2;
        }
    }
    if (o.threads > 0)
        pf_set_num_threads((int)o.threads);
    pf_manual_seed((uint64_t)o.seed);

    const char *cmd = argv[1];
    if (strcmp(cmd, "train-epoch") == 0)
        return cmd_train_epoch(&o);
    if (strcmp(cmd, "memory") == 0) {
        o.model = "lecture-cnn";
        o.batch = 100;
        o.epochs = 1;
        return cmd_train_epoch(&o);
    }
    if (strcmp(cmd, "infer") == 0)
        return cmd_infer(&o);
    if (strcmp(cmd, "latency") == 0)
        return cmd_latency(&o);
    if (strcmp(cmd, "alexnet") == 0)
        return cmd_alexnet(&o);
    if (strcmp(cmd, "time-to-99") == 0)
        return cmd_time_to_99(&o);
    fprintf(stderr, "profond_bench: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
