/*
 * autoencoder.c — slides "Auto-encodeurs":
 *
 *     "Un auto-encodeur combine un encodeur f depuis l'espace du signal X
 *      vers un espace latent F, et un décodeur g qui projette
 *      réciproquement vers X, de manière à ce que g ∘ f soit [proche de]
 *      l'identité sur les données. [...] Un exemple simple d'auto-encodeur
 *      serait composé de deux modèles linéaires, auquel cas la solution est
 *      celle du PCA. De bien meilleurs résultats peuvent être obtenus avec
 *      des fonctions plus complexes comme des réseaux de neurones."
 *
 * For each latent size d = 2, 4, 8, 16, 32 the program
 *   - fits a PCA on the 60,000 MNIST training digits (pf_pca_fit: one fit,
 *     whose first d components serve each d),
 *   - trains a convolutional autoencoder on the same digits (below: MSE,
 *     Adam, batches of 64, the learning rate falling along a half cosine),
 *     or reloads it from OUT/autoencoder/ae_d<d>.safetensors when an
 *     earlier run saved one with the same settings (--retrain trains
 *     again),
 *   - measures both methods' mean squared error per pixel (pixels in
 *     [0, 1]) on the 10,000 test digits,
 *   - draws the slide's figure: the first 36 test digits, their
 *     reconstruction g ∘ f by the autoencoder, and by PCA.
 * Then the error of both against d, and the slide's interpolations
 *     ξ(x, x', α) = g((1 - α) f(x) + α f(x')),  α = 0, 0.1, ..., 1,
 * between pairs of test digits, for PCA d = 32 and the autoencoder d = 8
 * and d = 32.
 *
 * The autoencoder (the lecture does not give its network; this one is
 * small enough to train in seconds per epoch on a CPU):
 *   f: Conv2d(1, 16, 3, stride 2, padding 1) BatchNorm2d ReLU     [16, 14, 14]
 *      Conv2d(16, 32, 3, stride 2, padding 1) BatchNorm2d ReLU    [32, 7, 7]
 *      Flatten Linear(1568, 128) BatchNorm1d ReLU Linear(128, d)  [d]
 *   g: Linear(d, 128) BatchNorm1d ReLU Linear(128, 1568) ReLU Unflatten(32, 7, 7)
 *      ConvTranspose2d(32, 16, 3, stride 2, padding 1, output_padding 1) BatchNorm2d ReLU
 *      ConvTranspose2d(16, 1, 3, stride 2, padding 1, output_padding 1) Sigmoid
 * saved as Sequential(f, g): names "0.0.weight" ... "1.9.bias", as
 * PyTorch's nn.Sequential(encoder, decoder) would name them. Measured after
 * one epoch (test error per pixel, d = 2 / d = 32; PCA: 0.056 / 0.017):
 * without the 128-unit layers and batch norm, 0.054 / 0.011; with the
 * layers but no batch norm, 0.049 / 0.021; this network, 0.046 / 0.009,
 * for 20% more time than the second.
 *
 * Next to each model, ae_d<d>.json records the settings it was trained with
 * and its training losses; a model is reused only when those settings are
 * this run's and the file matches the network (pf_module_load checks every
 * name and shape). Models and records are written atomically.
 *
 * Sizes: 2 epochs per d (or run->epochs). With run->budget (set by
 * `profond lecture all`), training stops before an epoch that would end past
 * this d's share of the budget, and says so; such a model is saved, and
 * reused by later runs under a budget only. Quick mode (tests): 1 epoch on
 * the first 2,000 training digits, errors on the first 1,000 test digits;
 * its models are saved under other names (ae_d<d>-quick.*).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "lecture.h"
#include "plot.h"

#define N_SIZES 5
#define MAX_LATENT 32
#define EPOCHS 2
#define MAX_EPOCHS 100
#define BATCH 64
#define HIDDEN 128
#define LR 2e-3
#define QUICK_TRAIN 2000
#define QUICK_TEST 1000
#define SHOWN 36    /* test digits in each reconstruction figure */
#define PAIRS 6     /* interpolation strips per figure */
#define ALPHAS 11   /* α = 0, 0.1, ..., 1 */
#define EVAL_BATCH 500
/* Changes whenever the network or its training changes, so that older
 * saved models are not reused. */
#define ARCHITECTURE "conv16s2bn-conv32s2bn-fc128bn-fc / fc128bn-fc-convT32s2bn-convT16s2-sigmoid, v1"

static const int latent_sizes[N_SIZES] = {2, 4, 8, 16, 32};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

/* ---- The network ----------------------------------------------------------------- */

typedef struct autoencoder {
    pf_module *model;    /* Sequential(encoder, decoder): what is saved */
    pf_module *encoder;  /* f: [B, 1, 28, 28] -> [B, d] */
    pf_module *decoder;  /* g: [B, d] -> [B, 1, 28, 28], in (0, 1) */
} autoencoder;

static autoencoder make_autoencoder(pf_ctx *p, int d)
{
    const pf_conv_opts down = {.stride = 2, .padding = 1}, up = {.stride = 2, .padding = 1, .output_padding = 1};
    autoencoder ae = {0};
    ae.encoder = pf_nn_sequential(p, PF_LAYERS(
        pf_nn_conv2d(p, 1, 16, 3, &down), pf_nn_batch_norm2d(p, 16), pf_nn_relu(p),
        pf_nn_conv2d(p, 16, 32, 3, &down), pf_nn_batch_norm2d(p, 32), pf_nn_relu(p),
        pf_nn_flatten(p, 1, -1), pf_nn_linear(p, 32 * 7 * 7, HIDDEN, true), pf_nn_batch_norm1d(p, HIDDEN),
        pf_nn_relu(p), pf_nn_linear(p, HIDDEN, d, true)));
    ae.decoder = pf_nn_sequential(p, PF_LAYERS(
        pf_nn_linear(p, d, HIDDEN, true), pf_nn_batch_norm1d(p, HIDDEN), pf_nn_relu(p),
        pf_nn_linear(p, HIDDEN, 32 * 7 * 7, true), pf_nn_relu(p), pf_nn_unflatten(p, 1, PF_DIMS(32, 7, 7)),
        pf_nn_conv_transpose2d(p, 32, 16, 3, &up), pf_nn_batch_norm2d(p, 16), pf_nn_relu(p),
        pf_nn_conv_transpose2d(p, 16, 1, 3, &up), pf_nn_sigmoid(p)));
    ae.model = ae.encoder && ae.decoder ? pf_nn_sequential(p, PF_LAYERS(ae.encoder, ae.decoder)) : NULL;
    return ae;
}

/* ---- Saved models -------------------------------------------------------------- */

/* What a model was trained with; a saved model is reused only when all of
 * it is the same. */
typedef struct settings {
    int d, epochs, batch;
    int64_t train_digits;
    double lr;
    unsigned long long seed;
    char data[64];
} settings;

/* Writes text to path atomically: a temporary file, flushed to the disk,
 * then renamed over path. */
static bool write_atomic(const char *path, const char *text)
{
    char tmp[1300];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "lecture autoencoder: path too long: %s\n", path);
        return false;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "lecture autoencoder: cannot write %s: %s\n", tmp, strerror(errno));
        return false;
    }
    bool ok = fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "lecture autoencoder: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return false;
    }
    return true;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && size < (1 << 20) && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
        if (fread(text, 1, (size_t)size, f) == (size_t)size) {
            text[size] = '\0';
        } else {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    return text;
}

static cJSON *settings_json(const settings *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "architecture", ARCHITECTURE);
    cJSON_AddNumberToObject(j, "d", s->d);
    cJSON_AddNumberToObject(j, "epochs", s->epochs);
    cJSON_AddNumberToObject(j, "batch_size", s->batch);
    cJSON_AddNumberToObject(j, "train_digits", (double)s->train_digits);
    cJSON_AddNumberToObject(j, "lr", s->lr);
    cJSON_AddNumberToObject(j, "seed", (double)s->seed);
    cJSON_AddStringToObject(j, "data", s->data);
    return j;
}

/* The training record of a saved model: its settings, and per epoch the
 * mean training loss, and the seconds training took. */
typedef struct record {
    int epochs_done;
    double loss[MAX_EPOCHS];
    double seconds;
    double cpu_seconds;  /* of this process, all threads (not recorded) */
} record;

/* Reads DIR/ae_d<d>.json into *rec when it holds exactly these settings and
 * a complete training (or, with `partial`, a training that a time budget
 * stopped early); otherwise false, with why in `why`. */
static bool read_record(const char *path, const settings *s, bool partial, record *rec, char *why, size_t n)
{
    char *text = read_text(path);
    if (!text) {
        snprintf(why, n, "no record");
        return false;
    }
    cJSON *j = cJSON_Parse(text), *want = settings_json(s);
    free(text);
    bool ok = j != NULL;
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        if (!ok)
            break;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, w->string);
        if (!v || !cJSON_Compare(v, w, true)) {
            snprintf(why, n, "it was trained with other settings (%s)", w->string);
            ok = false;
        }
    }
    if (!j)
        snprintf(why, n, "its record is not JSON");
    const cJSON *loss = ok ? cJSON_GetObjectItem(j, "train_loss") : NULL, *seconds = cJSON_GetObjectItem(j, "seconds");
    int done = cJSON_IsArray(loss) ? cJSON_GetArraySize(loss) : 0;
    if (ok && (done < 1 || done > s->epochs || !cJSON_IsNumber(seconds))) {
        snprintf(why, n, "its record is damaged");
        ok = false;
    } else if (ok && done < s->epochs && !partial) {
        snprintf(why, n, "a time budget stopped its training after %d of %d epochs", done, s->epochs);
        ok = false;
    }
    if (ok) {
        int e = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, loss) rec->loss[e++] = cJSON_GetNumberValue(v);
        rec->epochs_done = e;
        rec->seconds = cJSON_GetNumberValue(seconds);
    }
    cJSON_Delete(want);
    cJSON_Delete(j);
    return ok;
}

static bool write_record(const char *path, const settings *s, const record *rec)
{
    cJSON *j = settings_json(s);
    cJSON_AddItemToObject(j, "train_loss", cJSON_CreateDoubleArray(rec->loss, rec->epochs_done));
    cJSON_AddNumberToObject(j, "seconds", rec->seconds);
    char *text = cJSON_Print(j);
    bool ok = text && write_atomic(path, text);
    cJSON_free(text);
    cJSON_Delete(j);
    return ok;
}

/* ---- Training and testing ------------------------------------------------------- */

/* Trains ae on the digits of train (pixels in [0, 1]) for s->epochs epochs
 * or until `budget` seconds (0: none) would be passed; the losses go into
 * rec. False (pf_error() says why) on failure. */
static bool train_autoencoder(autoencoder *ae, pf_ctx *params, const pf_dataset *train, const settings *s,
                              double budget, record *rec)
{
    pf_ctx *ctx = pf_ctx_new(0), *step = pf_ctx_new(0);
    int n_params = 0;
    pf_tensor **parameters = pf_module_parameter_array(ae->model, &n_params);
    pf_optim *opt = parameters ? pf_optim_adam(params, n_params, parameters, (pf_adam_opts){.lr = s->lr}) : NULL;
    pf_loader *loader = ctx ? pf_loader_new(ctx, train, (pf_loader_opts){.batch_size = s->batch, .shuffle = true,
                                                                       .seed = s->seed}) : NULL;
    bool ok = opt && loader && step;
    const int64_t per_epoch = ok ? pf_loader_num_batches(loader) : 0;
    /* The learning rate falls from LR to 0 along a half cosine over all
     * the batches of all the epochs. */
    const pf_schedule schedule = {.kind = PF_SCHEDULE_COSINE, .lr = s->lr, .t_max = per_epoch * s->epochs};
    const double start = now_seconds();
    const clock_t cpu_start = clock();
    int64_t t = 0;
    rec->epochs_done = 0;
    for (int e = 0; ok && e < s->epochs; e++) {
        double elapsed = now_seconds() - start;
        if (budget > 0 && e > 0 && elapsed + elapsed / e > budget)
            break;
        double sum = 0;
        int64_t batches = 0;
        pf_tensor *x, *labels;
        while (ok && pf_loader_next(loader, step, &x, &labels)) {
            pf_schedule_apply(&schedule, opt, t++);
            pf_tensor *loss = pf_mse_loss(step, pf_forward(step, ae->model, x), x, PF_REDUCTION_MEAN);
            pf_optim_zero_grad(opt);
            pf_backward(loss);
            pf_optim_step(opt);
            sum += pf_item(loss);
            batches++;
            pf_ctx_reset(step);
            ok = pf_ok();
        }
        if (ok && !isfinite(sum)) {
            pf_fail("the training loss became %s in epoch %d", isnan(sum) ? "nan" : "inf", e + 1);
            ok = false;
        }
        if (ok) {
            rec->loss[e] = sum / (double)(batches ? batches : 1);
            rec->epochs_done = e + 1;
            printf("  d = %2d  epoch %d/%d  training loss %.5f  (%.1f s)\n", s->d, e + 1, s->epochs, rec->loss[e],
                   now_seconds() - start);
            fflush(stdout);
        }
    }
    rec->seconds = now_seconds() - start;
    rec->cpu_seconds = (double)(clock() - cpu_start) / CLOCKS_PER_SEC;
    pf_ctx_free(step);
    pf_ctx_free(ctx);
    return ok;
}

/* A batch of digits as float32 [n, 1, 28, 28] in [0, 1], made in ctx:
 * images first .. first+n-1 of d. */
static pf_tensor *digits(pf_ctx *ctx, const pf_dataset *d, int64_t first, int64_t n)
{
    pf_tensor *bytes = pf_narrow(ctx, d->images, 0, first, n);
    pf_tensor *x = pf_mul_scalar(ctx, pf_to_dtype(ctx, bytes, PF_F32), 1.0 / 255.0);
    return x ? pf_reshape(ctx, x, PF_DIMS(n, 1, x->shape[1], x->shape[2])) : NULL;
}

/* The digits at the n indices of d, as digits() does. */
static pf_tensor *digits_at(pf_ctx *ctx, const pf_dataset *d, int n, const int64_t *indices)
{
    pf_tensor *bytes = pf_index_select(ctx, d->images, 0, pf_from_i64(ctx, indices, PF_DIMS(n)));
    pf_tensor *x = pf_mul_scalar(ctx, pf_to_dtype(ctx, bytes, PF_F32), 1.0 / 255.0);
    return x ? pf_reshape(ctx, x, PF_DIMS(n, 1, x->shape[1], x->shape[2])) : NULL;
}

/* g(f(x)) by the autoencoder (ae) or by PCA (pca), as [n, 1, 28, 28]. */
static pf_tensor *reconstruct(pf_ctx *ctx, const autoencoder *ae, const pf_pca *pca, pf_tensor *x)
{
    if (ae)
        return pf_forward(ctx, ae->decoder, pf_forward(ctx, ae->encoder, x));
    pf_tensor *r = pf_pca_decode(ctx, pca, pf_pca_encode(ctx, pca, x));
    return x && r ? pf_reshape(ctx, r, x->ndim, x->shape) : NULL;
}

/* Mean squared error per pixel of g ∘ f over the digits of test (in [0, 1]
 * units), with ae or pca; -1 on failure. */
static double test_mse(const autoencoder *ae, const pf_pca *pca, const pf_dataset *test)
{
    pf_ctx *step = pf_ctx_new(0);
    bool recording = pf_set_grad_enabled(false);
    double sum = 0;
    int64_t pixels = 0;
    for (int64_t i = 0; step && i < test->count && pf_ok(); i += EVAL_BATCH) {
        int64_t n = test->count - i < EVAL_BATCH ? test->count - i : EVAL_BATCH;
        pf_tensor *x = digits(step, test, i, n);
        pf_tensor *err = pf_mse_loss(step, reconstruct(step, ae, pca, x), x, PF_REDUCTION_SUM);
        sum += pf_item(err);
        pixels += x ? pf_numel(x) : 0;
        pf_ctx_reset(step);
    }
    pf_set_grad_enabled(recording);
    pf_ctx_free(step);
    return pf_ok() && step && pixels ? sum / (double)pixels : -1;
}

/* ---- Figures ------------------------------------------------------------------------ */

/* The first SHOWN test digits (row 1), the autoencoder's reconstructions
 * (row 2) and PCA's (row 3). */
static bool reconstruction_figure(lecture_run *run, const char *file, const autoencoder *ae, const pf_pca *pca,
                                  const pf_dataset *test)
{
    pf_ctx *ctx = pf_ctx_new(0);
    bool recording = pf_set_grad_enabled(false);
    pf_tensor *x = ctx ? digits(ctx, test, 0, SHOWN) : NULL;
    pf_tensor *rows[3] = {x, reconstruct(ctx, ae, NULL, x), reconstruct(ctx, NULL, pca, x)};
    pf_tensor *grid = pf_cat(ctx, 3, rows, 0);
    bool ok = grid && image_grid_png(lecture_path(run, file), grid, SHOWN, 0, 1, 2);
    if (!grid)
        lecture_fail(run, "drawing the reconstructions");
    pf_set_grad_enabled(recording);
    pf_ctx_free(ctx);
    return ok;
}

/* Rows of x, ξ(x, x', 0), ξ(x, x', 0.1), ..., ξ(x, x', 1), x' for the
 * PAIRS pairs (a[i], b[i]) of test digits. */
static bool interpolation_figure(lecture_run *run, const char *file, const autoencoder *ae, const pf_pca *pca,
                                 const pf_dataset *test, const int64_t *a, const int64_t *b)
{
    pf_ctx *ctx = pf_ctx_new(0);
    bool recording = pf_set_grad_enabled(false);
    pf_tensor *xa = ctx ? digits_at(ctx, test, PAIRS, a) : NULL, *xb = digits_at(ctx, test, PAIRS, b);
    pf_tensor *za = ae ? pf_forward(ctx, ae->encoder, xa) : pf_pca_encode(ctx, pca, xa);
    pf_tensor *zb = ae ? pf_forward(ctx, ae->encoder, xb) : pf_pca_encode(ctx, pca, xb);
    /* columns[k]: [PAIRS, 1, 28, 28] */
    pf_tensor *columns[ALPHAS + 2] = {xa};
    for (int k = 0; k < ALPHAS; k++) {
        double alpha = (double)k / (ALPHAS - 1);
        pf_tensor *z = pf_add(ctx, pf_mul_scalar(ctx, za, 1 - alpha), pf_mul_scalar(ctx, zb, alpha));
        pf_tensor *g = ae ? pf_forward(ctx, ae->decoder, z) : pf_pca_decode(ctx, pca, z);
        columns[k + 1] = xa && g ? pf_reshape(ctx, g, xa->ndim, xa->shape) : NULL;
    }
    columns[ALPHAS + 1] = xb;
    /* [PAIRS, ALPHAS + 2, 1, 28, 28] -> row-major images, a pair per row. */
    pf_tensor *strip = pf_stack(ctx, ALPHAS + 2, columns, 1);
    pf_tensor *grid = strip ? pf_reshape(ctx, strip, PF_DIMS(PAIRS * (ALPHAS + 2), 1, 28, 28)) : NULL;
    bool ok = grid && image_grid_png(lecture_path(run, file), grid, ALPHAS + 2, 0, 1, 2);
    if (!grid)
        lecture_fail(run, "drawing the interpolations");
    pf_set_grad_enabled(recording);
    pf_ctx_free(ctx);
    return ok;
}

/* Both errors against d. */
static bool error_figure(lecture_run *run, const double *mse_ae, const double *mse_pca)
{
    double x[N_SIZES], hi = 0;
    for (int i = 0; i < N_SIZES; i++) {
        x[i] = latent_sizes[i];
        hi = fmax(hi, fmax(mse_ae[i], mse_pca[i]));
    }
    plot *p = plot_open(lecture_path(run, "mse.png"), 800, 600);
    if (!p)
        return false;
    /* Linear axes from 0: PLplot labels only the decades of a logarithmic
     * axis, and these errors lie within one. */
    plot_axes(p, 0, 34, 0, hi * 1.15, "latent size d", "test error per pixel (MSE)",
              "reconstruction error of the test digits");
    plot_line(p, N_SIZES, x, mse_pca, PLOT_RED, "PCA (linear autoencoder)");
    plot_points(p, N_SIZES, x, mse_pca, PLOT_RED, 2, NULL);
    plot_line(p, N_SIZES, x, mse_ae, PLOT_BLUE, "convolutional autoencoder");
    plot_points(p, N_SIZES, x, mse_ae, PLOT_BLUE, 3, NULL);
    plot_legend(p);
    return plot_close(p);
}

/* ---- The experiment ------------------------------------------------------------------ */

int lecture_autoencoder(lecture_run *run)
{
    const int epochs = run->epochs > 0 ? run->epochs : run->quick ? 1 : EPOCHS;
    if (epochs > MAX_EPOCHS) {
        fprintf(stderr, "lecture autoencoder: at most %d epochs\n", MAX_EPOCHS);
        return 1;
    }
    /* A budget applies only to the default length: asked-for epochs all run. */
    const double budget = run->epochs > 0 ? 0 : run->budget;
    pf_ctx *data = pf_ctx_new(0), *fit = pf_ctx_new(0);
    pf_dataset train, test;
    int status = 1;
    double mse_ae[N_SIZES], mse_pca[N_SIZES], seconds[N_SIZES], total_seconds = 0, total_cpu = 0;
    bool loaded[N_SIZES] = {false}, stopped_early = false;
    autoencoder models[N_SIZES];
    pf_ctx *model_ctx[N_SIZES] = {NULL};

    if (!data || !fit || !pf_dataset_load(data, run->data, true, &train) ||
        !pf_dataset_load(data, run->data, false, &test)) {
        lecture_fail(run, "loading the data");
        fprintf(stderr, "lecture autoencoder: scripts/fetch-mnist.sh downloads MNIST into $PROFOND_DATA/mnist; "
                        "--data DIR names another folder of IDX files\n");
        goto done;
    }
    if (train.images->shape[1] != 28 || train.images->shape[2] != 28) {
        fprintf(stderr, "lecture autoencoder: %s has %lldx%lld images; the autoencoder takes 28x28 digits\n",
                run->data, (long long)train.images->shape[1], (long long)train.images->shape[2]);
        goto done;
    }
    if (run->quick) {
        keep_first(data, &train, QUICK_TRAIN);
        keep_first(data, &test, QUICK_TEST);
    }
    if (test.count < SHOWN) {
        fprintf(stderr, "lecture autoencoder: %s has %lld test digits; the figures need %d\n", run->data,
                (long long)test.count, SHOWN);
        goto done;
    }
    /* The loader then gives pixel / 255, in [0, 1]. */
    train.mean = 0;
    train.std = 1;

    /* PCA: one fit on every training digit; its first d components for
     * each d. */
    double t0 = now_seconds();
    pf_tensor *all = pf_to_dtype(fit, train.images, PF_F32);
    float *pixels = pf_data_f32(all);
    for (int64_t k = 0; pixels && k < pf_numel(all); k++)
        pixels[k] /= 255.0f;
    pf_pca *pca = pixels ? pf_pca_fit(data, all, MAX_LATENT) : NULL;
    pf_ctx_free(fit);
    fit = NULL;
    if (!pca) {
        lecture_fail(run, "fitting the PCA");
        goto done;
    }
    const double pca_seconds = now_seconds() - t0;
    printf("PCA of %lld training digits: %.1f s\n", (long long)train.count, pca_seconds);

    printf("autoencoder, for each d: f = Conv2d(1,16,3,s2,p1) BN ReLU Conv2d(16,32,3,s2,p1) BN ReLU Flatten "
           "Linear(1568,128) BN ReLU Linear(128,d); g = Linear(d,128) BN ReLU Linear(128,1568) ReLU Unflatten "
           "ConvTranspose2d(32,16,3,s2,p1,op1) BN ReLU ConvTranspose2d(16,1,3,s2,p1,op1) Sigmoid; MSE, Adam lr %g "
           "(cosine), batches of %d, %d epoch%s on %lld digits; %d threads\n",
           LR, BATCH, epochs, epochs > 1 ? "s" : "", (long long)train.count, pf_get_num_threads());
    printf("    d   autoencoder       PCA   (test MSE per pixel, %lld digits)\n", (long long)test.count);
    const double start = now_seconds();
    for (int i = 0; i < N_SIZES; i++) {
        const int d = latent_sizes[i];
        settings s = {.d = d, .epochs = epochs, .batch = BATCH, .train_digits = train.count, .lr = LR,
                      .seed = run->seed};
        snprintf(s.data, sizeof s.data, "%s", train.name);
        char model_path[1200], record_path[1200], file[64], why[256] = "--retrain";
        snprintf(file, sizeof file, "ae_d%d%s.safetensors", d, run->quick ? "-quick" : "");
        snprintf(model_path, sizeof model_path, "%s", lecture_path(run, file));
        snprintf(file, sizeof file, "ae_d%d%s.json", d, run->quick ? "-quick" : "");
        snprintf(record_path, sizeof record_path, "%s", lecture_path(run, file));

        /* Every model starts from its own seed, whether the others were
         * trained or loaded. */
        pf_manual_seed(run->seed * 1000 + (unsigned long long)d);
        model_ctx[i] = pf_ctx_new(0);
        models[i] = model_ctx[i] ? make_autoencoder(model_ctx[i], d) : (autoencoder){0};
        if (!models[i].model) {
            lecture_fail(run, "making the autoencoder");
            goto done;
        }
        record rec = {0};
        /* Under a time budget, a model that one stopped early is reused. */
        if (!run->retrain && read_record(record_path, &s, budget > 0, &rec, why, sizeof why)) {
            if (pf_module_load(models[i].model, model_path)) {
                loaded[i] = true;
            } else {
                snprintf(why, sizeof why, "%s", pf_error());
                pf_error_clear();
                /* Train from the very start a fresh run would have. */
                pf_ctx_reset(model_ctx[i]);
                pf_manual_seed(run->seed * 1000 + (unsigned long long)d);
                models[i] = make_autoencoder(model_ctx[i], d);
                if (!models[i].model) {
                    lecture_fail(run, "making the autoencoder");
                    goto done;
                }
            }
        }
        if (loaded[i]) {
            printf("  d = %2d  loaded %s (trained for %d epoch%s in %.1f s; --retrain trains again)\n", d, model_path,
                   rec.epochs_done, rec.epochs_done > 1 ? "s" : "", rec.seconds);
            seconds[i] = rec.seconds;
            stopped_early |= rec.epochs_done < epochs;
        } else {
            if (strcmp(why, "--retrain") != 0 && strncmp(why, "no record", 9) != 0)
                printf("  d = %2d  not reusing %s: %s\n", d, model_path, why);
            /* This d's share of what is left of the budget. */
            double share = budget > 0 ? (budget - (now_seconds() - start)) / (N_SIZES - i) : 0;
            if (budget > 0 && share < 1)
                share = 1;
            remove(record_path); /* a model without its record is never reused */
            if (!train_autoencoder(&models[i], model_ctx[i], &train, &s, share, &rec)) {
                lecture_fail(run, "training");
                goto done;
            }
            seconds[i] = rec.seconds;
            if (rec.epochs_done < epochs) {
                stopped_early = true;
                printf("  d = %2d  stopped after %d of %d epochs (time budget)\n", d, rec.epochs_done, epochs);
            }
            if (!pf_module_save(models[i].model, model_path) || !write_record(record_path, &s, &rec)) {
                lecture_fail(run, "saving the model");
                goto done;
            }
        }
        total_seconds += loaded[i] ? 0 : seconds[i];
        total_cpu += loaded[i] ? 0 : rec.cpu_seconds;
        pf_module_train(models[i].model, false);
        pf_pca *head = pf_pca_head(data, pca, d);
        mse_ae[i] = test_mse(&models[i], NULL, &test);
        mse_pca[i] = test_mse(NULL, head, &test);
        if (!head || mse_ae[i] < 0 || mse_pca[i] < 0) {
            lecture_fail(run, "testing");
            goto done;
        }
        printf("   %2d   %11.5f   %7.5f\n", d, mse_ae[i], mse_pca[i]);
        fflush(stdout);

        char name[64], caption[1024];
        snprintf(name, sizeof name, "reconstructions_d%d.png", d);
        if (!reconstruction_figure(run, name, &models[i], head, &test))
            goto done;
        snprintf(caption, sizeof caption,
                 "d = %d. Top: X, the first %d test digits (exemples originaux). Middle: g ∘ f(X), the "
                 "convolutional autoencoder (CNN, d = %d), test error %.4f per pixel. Bottom: g ∘ f(X), PCA "
                 "(d = %d), test error %.4f.",
                 d, SHOWN, d, mse_ae[i], d, mse_pca[i]);
        lecture_figure(run, name, caption);
    }

    /* The errors. */
    double sizes[N_SIZES];
    for (int i = 0; i < N_SIZES; i++) {
        sizes[i] = latent_sizes[i];
        mse_ae[i] = round(mse_ae[i] * 1e6) / 1e6;
        mse_pca[i] = round(mse_pca[i] * 1e6) / 1e6;
        seconds[i] = round(seconds[i] * 100) / 100;
    }
    if (!error_figure(run, mse_ae, mse_pca))
        goto done;
    lecture_figure(run, "mse.png",
                   "The mean squared error per pixel of g ∘ f on the test digits (pixels in [0, 1]) against the "
                   "latent size d: PCA, the best linear autoencoder, and the convolutional autoencoder (\"de bien "
                   "meilleurs résultats peuvent être obtenus avec des fonctions plus complexes comme des réseaux "
                   "de neurones\").");

    /* Interpolations between random pairs of test digits of different
     * classes, the same pairs in the three figures. */
    int64_t a[PAIRS], b[PAIRS];
    const int64_t *labels = pf_data_i64(test.labels);
    pf_rng rng;
    pf_rng_seed(&rng, run->seed + 6);
    for (int k = 0; k < PAIRS && labels; k++) {
        a[k] = (int64_t)pf_rng_below(&rng, (uint64_t)test.count);
        for (int tries = 0; tries < 1000; tries++) /* a dataset of one class ends the search */
            if (labels[b[k] = (int64_t)pf_rng_below(&rng, (uint64_t)test.count)] != labels[a[k]])
                break;
    }
    const int i8 = 2, i32 = 4; /* latent_sizes[2] = 8, latent_sizes[4] = 32 */
    if (!labels || !interpolation_figure(run, "interpolation_pca_d32.png", NULL, pca, &test, a, b) ||
        !interpolation_figure(run, "interpolation_ae_d8.png", &models[i8], NULL, &test, a, b) ||
        !interpolation_figure(run, "interpolation_ae_d32.png", &models[i32], NULL, &test, a, b))
        goto done;
    const char *xi = "ξ(x, x', α) = g((1 − α) f(x) + α f(x')) for α = 0, 0.1, …, 1 (columns 2 to 12), between x "
                     "(first column) and x' (last column), pairs of test digits drawn at random";
    char caption[1024];
    snprintf(caption, sizeof caption,
             "Interpolation avec PCA (d = 32): %s. PCA's g is affine, so ξ is the cross-fade "
             "(1 − α) g(f(x)) + α g(f(x')) of the two reconstructions.", xi);
    lecture_figure(run, "interpolation_pca_d32.png", caption);
    snprintf(caption, sizeof caption, "Interpolation avec un auto-encodeur (d = 8): %s.", xi);
    lecture_figure(run, "interpolation_ae_d8.png", caption);
    snprintf(caption, sizeof caption, "Interpolation avec un auto-encodeur (d = 32): %s.", xi);
    lecture_figure(run, "interpolation_ae_d32.png", caption);

    /* Numbers and notes. */
    int n_loaded = 0, ae_wins = 0;
    for (int i = 0; i < N_SIZES; i++) {
        n_loaded += loaded[i];
        ae_wins += mse_ae[i] < mse_pca[i];
    }
    lecture_series(run, "latent_sizes", N_SIZES, sizes);
    lecture_series(run, "mse_ae", N_SIZES, mse_ae);
    lecture_series(run, "mse_pca", N_SIZES, mse_pca);
    lecture_series(run, "training_seconds", N_SIZES, seconds);
    lecture_number(run, "epochs", epochs);
    lecture_number(run, "train_digits", (double)train.count);
    lecture_number(run, "test_digits", (double)test.count);
    lecture_number(run, "models_loaded", n_loaded);
    lecture_number(run, "pca_seconds", round(pca_seconds * 100) / 100);
    lecture_number(run, "threads", pf_get_num_threads());
    if (stopped_early)
        lecture_number(run, "budget_seconds", budget);

    char table[1024];
    int used = snprintf(table, sizeof table, "Test error per pixel (MSE, pixels in [0, 1], %lld test digits), "
                        "autoencoder vs PCA:", (long long)test.count);
    for (int i = 0; i < N_SIZES && used < (int)sizeof table; i++)
        used += snprintf(table + used, sizeof table - (size_t)used, "%s d = %d: %.4f vs %.4f", i ? ";" : "",
                         latent_sizes[i], mse_ae[i], mse_pca[i]);
    lecture_note(run, "%s. The autoencoder's error is below PCA's at %d of the %d latent sizes.", table, ae_wins,
                 N_SIZES);
    if (run->quick)
        lecture_note(run, "Quick run: the autoencoders trained for %d epoch%s on the first %lld training digits "
                     "(PCA fitted on the same), errors on the first %lld test digits — not enough to train them "
                     "well; `profond lecture autoencoder` trains for %d epochs on all 60,000.",
                     epochs, epochs > 1 ? "s" : "", (long long)train.count, (long long)test.count, EPOCHS);
    if (stopped_early)
        lecture_note(run, "Some autoencoders trained for fewer than %d epochs, to stay within this run's time "
                     "budget of %.0f s; `profond lecture autoencoder` alone trains them fully.", epochs, budget);
    if (n_loaded == N_SIZES)
        lecture_note(run, "The %d autoencoders were loaded from the models an earlier run saved in this folder "
                     "(ae_d<d>.safetensors; `--retrain` trains them again); training them had taken %.1f s.",
                     N_SIZES, seconds[0] + seconds[1] + seconds[2] + seconds[3] + seconds[4]);
    else
        lecture_note(run, "Training %d autoencoder%s took %.1f s (%.1f s of CPU time) on this machine with %d "
                     "thread%s%s; the PCA of the %lld training digits %.1f s.", N_SIZES - n_loaded,
                     N_SIZES - n_loaded > 1 ? "s" : "", total_seconds, total_cpu, pf_get_num_threads(),
                     pf_get_num_threads() > 1 ? "s" : "",
                     n_loaded ? " (the others were loaded from an earlier run's models)" : "",
                     (long long)train.count, pca_seconds);
    status = 0;
done:
    for (int i = 0; i < N_SIZES; i++)
        pf_ctx_free(model_ctx[i]);
    pf_ctx_free(fit);
    pf_ctx_free(data);
    return status;
}
