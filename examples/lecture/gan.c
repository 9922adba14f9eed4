/*
 * gan.c — slides "Modèles génératifs adverseriaux": two networks trained
 * with adversarial objectives (Goodfellow et al., 2014),
 *
 *     a generator      G : R^D -> X   fed with Z ~ N(0, I),
 *     a discriminator  D : X -> [0, 1]   "vrai" or "faux",
 *
 * then the slides show DCGAN samples (Radford et al., 2015) of the LSUN
 * "bedroom" class after 1, 2, 5, 10 and 20 epochs of 3M images. We train on
 * MNIST (or Fashion-MNIST, --data fashion-mnist): 60,000 images of 28x28.
 *
 * The networks, DCGAN-style (transposed convolutions, batch norm, ReLU in G,
 * LeakyReLU(0.2) in D, no bias before a batch norm, weights N(0, 0.02)):
 *
 *   G: z [100] -> Linear(100, 64·7·7) -> Unflatten(64, 7, 7) -> BatchNorm2d
 *      -> ReLU -> ConvTranspose2d(64, 32, 4, stride 2, padding 1)    14x14
 *      -> BatchNorm2d -> ReLU -> ConvTranspose2d(32, 1, 4, 2, 1)     28x28
 *      -> Tanh
 *   D: image -> Conv2d(1, 32, 4, 2, 1) -> LeakyReLU(0.2)            14x14
 *      -> Conv2d(32, 64, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)    7x7
 *      -> Flatten -> Linear(64·7·7, 1)       a logit; D = its sigmoid
 *
 * (channels 2·GAN_WIDTH and GAN_WIDTH, GAN_WIDTH = 32 in gan.h: DCGAN's
 * MNIST networks often have twice as many, for 2.5 times the time an epoch
 * here; these make digits as well.)
 *
 * Training, as PyTorch's DCGAN example: Adam (lr 2e-4, betas 0.5, 0.999)
 * for each network, batches of 128 shuffled images scaled to [-1, 1]; per
 * batch, D's step on BCE(D(x), 1) + BCE(D(G(z)), 0) with G(z) detached,
 * then G's step on the non-saturating loss BCE(D(G(z)), 1) (-log D(G(z))
 * rather than the minimax log(1 - D(G(z))), which has no gradient when D
 * wins). The images come from the data loader, which normalises them with
 * the dataset's mean and std; x·2std + 2mean - 1 turns them back into
 * 2·pixel/255 - 1.
 *
 * It saves 8x8 grids of G's images for one fixed batch of 64 latent
 * vectors (drawn from their own generator, seeded by the run's seed) after
 * epochs 1, 2, 5, 10 and 20 (and after the last epoch if it is not one of
 * them), next to 64 training images; plots the two losses and the mean of D
 * on real and generated images per epoch; and saves both networks
 * (generator.safetensors, discriminator.safetensors, atomic writes).
 *
 * Sizes: 20 epochs (or run->epochs). With run->budget (set by `profond
 * lecture all`) it stops before an epoch that would end past the budget,
 * and says so, as mnist does. Quick mode (tests): 1 epoch on the first 256
 * training images in batches of 64.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gan.h"
#include "image.h"
#include "lecture.h"
#include "plot.h"

#define SLIDE_EPOCHS 20
#define MAX_EPOCHS 1000
#define BATCH 128
#define QUICK_EPOCHS 1
#define QUICK_IMAGES 256
#define QUICK_BATCH 64
#define SHOWN 64        /* images per grid, 8 x 8 */
#define FIXED_SEED 0x47414eULL /* "GAN": the fixed latent batch's generator is seed ^ this */

static const int saved_epochs[] = {1, 2, 5, 10, 20};

/* ---- the networks ---- */

/* DCGAN's initialisation: weights N(0, 0.02), batch-norm scales N(1, 0.02),
 * biases 0, from the default generator. */
static bool dcgan_init(pf_module *m)
{
    pf_named_tensor *p;
    int n = pf_module_parameters(m, &p);
    if (n < 0)
        return false;
    pf_rng *rng = pf_default_rng();
    for (int i = 0; i < n; i++) {
        float *v = pf_data_f32(p[i].tensor);
        if (!v)
            return false;
        const size_t len = strlen(p[i].name);
        const bool bias = len >= 4 && strcmp(p[i].name + len - 4, "bias") == 0;
        const int64_t count = pf_numel(p[i].tensor);
        for (int64_t k = 0; k < count; k++)
            v[k] = bias ? 0.0f
                   : p[i].tensor->ndim >= 2 ? (float)(0.02 * pf_rng_normal(rng))
                                            : (float)(1.0 + 0.02 * pf_rng_normal(rng));
    }
    return true;
}

bool gan_make(gan *g, pf_ctx *params, int latent)
{
    memset(g, 0, sizeof *g);
    if (latent < 1 || latent > GAN_MAX_LATENT) {
        pf_fail("gan: a latent size of %d makes no sense: it must lie in 1..%d", latent, GAN_MAX_LATENT);
        return false;
    }
    if (!params) {
        pf_fail("gan: no context");
        return false;
    }
    /* Kernel 4, stride 2, padding 1: 7 -> 14 -> 28 up, 28 -> 14 -> 7 down;
     * no bias before a batch norm. */
    const pf_conv_opts two = {.stride = 2, .padding = 1}, two_nb = {.stride = 2, .padding = 1, .no_bias = true};
    const int64_t w = GAN_WIDTH;
    g->latent = latent;
    g->generator = pf_nn_sequential(params, PF_LAYERS(
        pf_nn_linear(params, latent, 2 * w * 7 * 7, false), pf_nn_unflatten(params, 1, PF_DIMS(2 * w, 7, 7)),
        pf_nn_batch_norm2d(params, 2 * w), pf_nn_relu(params),
        pf_nn_conv_transpose2d(params, 2 * w, w, 4, &two_nb), pf_nn_batch_norm2d(params, w), pf_nn_relu(params),
        pf_nn_conv_transpose2d(params, w, 1, 4, &two), pf_nn_tanh(params)));
    g->discriminator = pf_nn_sequential(params, PF_LAYERS(
        pf_nn_conv2d(params, 1, w, 4, &two), pf_nn_leaky_relu(params, 0.2),
        pf_nn_conv2d(params, w, 2 * w, 4, &two_nb), pf_nn_batch_norm2d(params, 2 * w), pf_nn_leaky_relu(params, 0.2),
        pf_nn_flatten(params, 1, -1), pf_nn_linear(params, 2 * w * 7 * 7, 1, true)));
    if (!g->generator || !g->discriminator || !dcgan_init(g->generator) || !dcgan_init(g->discriminator))
        return false;
    const pf_adam_opts adam = {.lr = 2e-4, .beta1 = 0.5, .beta2 = 0.999};
    int n_g = 0, n_d = 0;
    pf_tensor **p_g = pf_module_parameter_array(g->generator, &n_g);
    pf_tensor **p_d = pf_module_parameter_array(g->discriminator, &n_d);
    g->opt_g = p_g ? pf_optim_adam(params, n_g, p_g, adam) : NULL;
    g->opt_d = p_d ? pf_optim_adam(params, n_d, p_d, adam) : NULL;
    return g->opt_g && g->opt_d && pf_ok();
}

/* The mean of sigmoid(logits), outside the tape. */
static double mean_probability(pf_ctx *step, pf_tensor *logits)
{
    return pf_item(pf_mean(step, pf_sigmoid(step, pf_detach(step, logits))));
}

bool gan_step(gan *g, pf_ctx *step, pf_tensor *real, gan_losses *out)
{
    if (!g || !g->generator || !g->opt_d || !step || !real || !out) {
        pf_fail("gan_step: no network, context, batch or result");
        return false;
    }
    if (real->ndim != 4 || real->shape[1] != 1 || real->shape[2] != GAN_SIDE || real->shape[3] != GAN_SIDE ||
        real->shape[0] < 2) {
        char shape[64];
        pf_fail("gan_step: expected real images [B,1,%d,%d] with B >= 2, got %s", GAN_SIDE, GAN_SIDE,
                pf_shape_str(real, shape, sizeof shape));
        return false;
    }
    const int64_t b = real->shape[0];
    pf_tensor *ones = pf_ones(step, PF_DIMS(b, 1)), *zeros = pf_zeros(step, PF_DIMS(b, 1));
    pf_tensor *fake = pf_forward(step, g->generator, pf_randn(step, PF_DIMS(b, g->latent)));

    /* D: real images are "vrai" (1), generated ones "faux" (0); G is not
     * trained by this loss (detached). */
    pf_tensor *d_real = pf_forward(step, g->discriminator, real);
    pf_tensor *d_fake = pf_forward(step, g->discriminator, pf_detach(step, fake));
    pf_tensor *loss_d = pf_add(step, pf_bce_with_logits(step, d_real, ones, PF_REDUCTION_MEAN),
                               pf_bce_with_logits(step, d_fake, zeros, PF_REDUCTION_MEAN));
    if (!loss_d)
        return false;
    out->d_real = mean_probability(step, d_real);
    out->d_fake = mean_probability(step, d_fake);
    out->d = pf_item(loss_d);
    pf_optim_zero_grad(g->opt_d);
    if (!pf_backward(loss_d) || !pf_optim_step(g->opt_d))
        return false;

    /* G: make the updated D answer "vrai" on its images. The backward pass
     * also leaves gradients in D's parameters; D's next step zeroes them
     * before its own backward pass. */
    pf_tensor *loss_g = pf_bce_with_logits(step, pf_forward(step, g->discriminator, fake), ones, PF_REDUCTION_MEAN);
    if (!loss_g)
        return false;
    out->g = pf_item(loss_g);
    pf_optim_zero_grad(g->opt_g);
    if (!pf_backward(loss_g) || !pf_optim_step(g->opt_g))
        return false;
    return pf_ok();
}

pf_tensor *gan_sample(gan *g, pf_ctx *ctx, pf_tensor *z)
{
    if (!g || !g->generator)
        return pf_fail("gan_sample: no generator");
    bool recording = pf_set_grad_enabled(false);
    pf_module_train(g->generator, false);
    pf_tensor *x = pf_forward(ctx, g->generator, z);
    pf_module_train(g->generator, true);
    pf_set_grad_enabled(recording);
    return x;
}

/* ---- the experiment ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* An image grid of 8 columns, written atomically (a temporary file, then
 * rename). */
static bool save_grid(lecture_run *run, const char *file, const pf_tensor *images, double lo, double hi)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s", lecture_path(run, file));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!image_grid_png(tmp, images, 8, lo, hi, 2)) {
        remove(tmp);
        return false;
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "lecture %s: cannot write %s\n", run->name, path);
        return false;
    }
    return true;
}

/* G's images for the fixed latent batch after `epoch` epochs, saved as
 * samples_epoch_NN.png and shown with the slide's caption. */
static bool save_samples(lecture_run *run, gan *g, pf_tensor *fixed_z, int epoch, int64_t images, const char *data)
{
    pf_ctx *ctx = pf_ctx_new(0);
    pf_tensor *x = ctx ? gan_sample(g, ctx, fixed_z) : NULL;
    char file[64], caption[512];
    snprintf(file, sizeof file, "samples_epoch_%02d.png", epoch);
    bool ok = x && save_grid(run, file, x, -1, 1);
    if (!x)
        lecture_fail(run, "sampling");
    pf_ctx_free(ctx);
    if (!ok)
        return false;
    snprintf(caption, sizeof caption,
             "Slide: « Images synthétisées après %d epoch%s » (LSUN bedrooms, 3M images an epoch). Here: G's "
             "images for the same %d latent vectors z ~ N(0, I) after %d epoch%s of %lld %s images.",
             epoch, epoch > 1 ? "s" : "", SHOWN, epoch, epoch > 1 ? "s" : "", (long long)images, data);
    lecture_figure(run, file, caption);
    return true;
}

/* A curve with a circle per epoch; its legend goes with the line, or with
 * the circle when there is a single epoch (no line to draw). */
static void curve(plot *p, int n, const double *x, const double *y, int color, const char *legend)
{
    plot_line(p, n, x, y, color, n > 1 ? legend : NULL);
    plot_points(p, n, x, y, color, 2, n > 1 ? NULL : legend);
}

/* The losses of D and G per epoch (left) and the mean of D on real and on
 * generated images (right), with the values of the equilibrium where D
 * cannot tell them apart (D = 1/2: losses 2 log 2 and log 2). */
static bool draw_curves(lecture_run *run, int epochs, const double *loss_d, const double *loss_g,
                        const double *d_real, const double *d_fake)
{
    double x[MAX_EPOCHS], top = 2 * log(2);
    for (int e = 0; e < epochs; e++) {
        x[e] = e + 1;
        top = fmax(top, fmax(loss_d[e], loss_g[e]));
    }
    plot *p = plot_open(lecture_path(run, "losses.png"), 1400, 560);
    if (!p)
        return false;
    plot_panels(p, 2, 1);
    const double x0 = 0.5, x1 = epochs + 0.5, flat_x[2] = {x0, x1};
    plot_axes(p, x0, x1, 0, top * 1.8, "epoch", "mean loss over the epoch's batches", "losses");
    curve(p, epochs, x, loss_d, PLOT_RED, "D: BCE(D(x), 1) + BCE(D(G(z)), 0)");
    curve(p, epochs, x, loss_g, PLOT_BLUE, "G: BCE(D(G(z)), 1)");
    plot_dashed_line(p, 2, flat_x, (const double[]){2 * log(2), 2 * log(2)}, PLOT_RED, "D = 1/2: 2 log 2");
    plot_dashed_line(p, 2, flat_x, (const double[]){log(2), log(2)}, PLOT_BLUE, "D = 1/2: log 2");
    plot_legend(p);

    plot_axes(p, x0, x1, 0, 1.4, "epoch", "mean of D", "the discriminator's answers");
    curve(p, epochs, x, d_real, PLOT_GREEN, "D(x), x a training image");
    curve(p, epochs, x, d_fake, PLOT_ORANGE, "D(G(z)), before D's step");
    plot_dashed_line(p, 2, flat_x, (const double[]){0.5, 0.5}, PLOT_BLACK, "1/2");
    plot_legend(p);
    return plot_close(p);
}

static bool is_saved_epoch(int epoch)
{
    for (size_t i = 0; i < sizeof saved_epochs / sizeof *saved_epochs; i++)
        if (saved_epochs[i] == epoch)
            return true;
    return false;
}

int lecture_gan(lecture_run *run)
{
    const int planned = run->epochs > 0 ? run->epochs : run->quick ? QUICK_EPOCHS : SLIDE_EPOCHS;
    if (planned > MAX_EPOCHS) {
        fprintf(stderr, "lecture gan: at most %d epochs\n", MAX_EPOCHS);
        return 1;
    }
    /* A budget applies only to the default length: asked-for epochs all run. */
    const double budget = run->epochs > 0 ? 0 : run->budget;
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    double loss_d[MAX_EPOCHS], loss_g[MAX_EPOCHS], d_real[MAX_EPOCHS], d_fake[MAX_EPOCHS], seconds[MAX_EPOCHS];
    int status = 1, epochs = 0;
    pf_dataset train;
    gan g;

    if (!data || !params || !step || !pf_dataset_load(data, run->data, true, &train)) {
        lecture_fail(run, "loading the data");
        fprintf(stderr, "lecture gan: scripts/fetch-mnist.sh downloads MNIST into $PROFOND_DATA/mnist; "
                        "--data fashion-mnist or --data DIR names another folder of IDX files\n");
        goto done;
    }
    if (train.images->shape[1] != GAN_SIDE || train.images->shape[2] != GAN_SIDE) {
        fprintf(stderr, "lecture gan: the generator makes %dx%d images, but %s holds %lldx%lld images\n", GAN_SIDE,
                GAN_SIDE, run->data, (long long)train.images->shape[1], (long long)train.images->shape[2]);
        goto done;
    }
    if (run->quick && train.count > QUICK_IMAGES) {
        train.images = pf_narrow(data, train.images, 0, 0, QUICK_IMAGES);
        train.labels = pf_narrow(data, train.labels, 0, 0, QUICK_IMAGES);
        train.count = QUICK_IMAGES;
    }
    if (train.count < 2) {
        fprintf(stderr, "lecture gan: %s has %lld training image%s; batch norm needs at least 2\n", run->data,
                (long long)train.count, train.count == 1 ? "" : "s");
        goto done;
    }
    const int64_t wanted = run->quick ? QUICK_BATCH : BATCH, batch = train.count < wanted ? train.count : wanted;
    pf_loader *loader = pf_loader_new(data, &train, (pf_loader_opts){.batch_size = batch, .shuffle = true,
                                                                      .drop_last = true, .seed = run->seed});
    if (!loader || !gan_make(&g, params, GAN_LATENT)) {
        lecture_fail(run, "making the networks");
        goto done;
    }

    /* The fixed latent batch, from its own generator: the grids of all
     * epochs show G's images for the same z. */
    float z_values[SHOWN * GAN_LATENT];
    pf_rng z_rng;
    pf_rng_seed(&z_rng, (uint64_t)run->seed ^ FIXED_SEED);
    for (int i = 0; i < SHOWN * GAN_LATENT; i++)
        z_values[i] = (float)pf_rng_normal(&z_rng);
    pf_tensor *fixed_z = pf_from_f32(data, z_values, PF_DIMS(SHOWN, GAN_LATENT));
    /* Training images, for comparison (the slide shows LSUN bedrooms). */
    int64_t shown_real = train.count < SHOWN ? train.count : SHOWN;
    pf_tensor *real_shown = pf_narrow(data, train.images, 0, 0, shown_real);
    if (!fixed_z || !real_shown || !save_grid(run, "real.png", real_shown, 0, 255)) {
        lecture_fail(run, "the fixed latent batch or the training images");
        goto done;
    }
    char caption[1024];
    snprintf(caption, sizeof caption,
             "Slide: « Images de la classe \"chambres à coucher\" de la base LSUN. » Here: the first %lld of the "
             "%lld %s training images that the GAN learns to imitate.",
             (long long)shown_real, (long long)train.count, train.name);
    lecture_figure(run, "real.png", caption);

    printf("G: ");
    pf_module_fprint(stdout, g.generator);
    printf("D: ");
    pf_module_fprint(stdout, g.discriminator);
    printf("G: %lld parameters; D: %lld parameters; latent z ~ N(0, I) of %d dimensions\n",
           (long long)pf_module_num_parameters(g.generator), (long long)pf_module_num_parameters(g.discriminator),
           GAN_LATENT);
    printf("Adam lr 2e-4, betas (0.5, 0.999); batches of %lld of %lld %s training images in [-1, 1], shuffled; "
           "%d threads\n", (long long)batch, (long long)train.count, train.name, pf_get_num_threads());
    printf("epoch   loss D   loss G    D(x)   D(G(z))   seconds (total)\n");
    fflush(stdout);

    const double start = now_seconds(), scale = 2.0 * train.std, shift = 2.0 * train.mean - 1.0;
    double total = 0;
    for (int e = 0; e < planned; e++) {
        /* Under a budget: no epoch that would end past it. */
        double elapsed = now_seconds() - start;
        if (budget > 0 && e > 0 && elapsed + elapsed / e > budget)
            break;
        const double epoch_start = now_seconds();
        double sum_d = 0, sum_g = 0, sum_real = 0, sum_fake = 0;
        int64_t batches = 0;
        pf_tensor *input, *labels;
        while (pf_loader_next(loader, step, &input, &labels)) {
            /* The loader's (pixel/255 - mean)/std, back to 2 pixel/255 - 1. */
            pf_tensor *real = pf_add_scalar(step, pf_mul_scalar(step, input, scale), shift);
            gan_losses l;
            bool ok = gan_step(&g, step, real, &l);
            pf_ctx_reset(step);
            if (!ok)
                break;
            sum_d += l.d;
            sum_g += l.g;
            sum_real += l.d_real;
            sum_fake += l.d_fake;
            batches++;
        }
        if (!pf_ok() || batches == 0) {
            lecture_fail(run, "training");
            goto done;
        }
        seconds[e] = now_seconds() - epoch_start;
        total += seconds[e];
        loss_d[e] = sum_d / (double)batches;
        loss_g[e] = sum_g / (double)batches;
        d_real[e] = sum_real / (double)batches;
        d_fake[e] = sum_fake / (double)batches;
        if (!isfinite(loss_d[e]) || !isfinite(loss_g[e])) {
            fprintf(stderr, "lecture gan: a loss became %s at epoch %d\n",
                    isnan(loss_d[e]) || isnan(loss_g[e]) ? "nan" : "inf", e + 1);
            goto done;
        }
        epochs = e + 1;
        printf("%5d   %6.4f   %6.4f   %5.3f   %7.3f   %7.1f (%.1f)\n", epochs, loss_d[e], loss_g[e], d_real[e],
               d_fake[e], seconds[e], total);
        fflush(stdout);
        if (is_saved_epoch(epochs) && !save_samples(run, &g, fixed_z, epochs, train.count, train.name))
            goto done;
    }
    if (!is_saved_epoch(epochs) && !save_samples(run, &g, fixed_z, epochs, train.count, train.name))
        goto done;
    if (!pf_module_save(g.generator, lecture_path(run, "generator.safetensors")) ||
        !pf_module_save(g.discriminator, lecture_path(run, "discriminator.safetensors"))) {
        lecture_fail(run, "saving the networks");
        goto done;
    }

    /* Numbers, rounded to what they mean. */
    for (int e = 0; e < epochs; e++) {
        loss_d[e] = round(loss_d[e] * 1e4) / 1e4;
        loss_g[e] = round(loss_g[e] * 1e4) / 1e4;
        d_real[e] = round(d_real[e] * 1e4) / 1e4;
        d_fake[e] = round(d_fake[e] * 1e4) / 1e4;
        seconds[e] = round(seconds[e] * 100) / 100;
    }
    lecture_number(run, "epochs", epochs);
    lecture_text(run, "data", train.name);
    lecture_number(run, "train_images", (double)train.count);
    lecture_number(run, "batch_size", (double)batch);
    lecture_number(run, "latent_size", GAN_LATENT);
    lecture_number(run, "generator_parameters", (double)pf_module_num_parameters(g.generator));
    lecture_number(run, "discriminator_parameters", (double)pf_module_num_parameters(g.discriminator));
    lecture_number(run, "threads", pf_get_num_threads());
    lecture_series(run, "loss_d", epochs, loss_d);
    lecture_series(run, "loss_g", epochs, loss_g);
    lecture_series(run, "mean_d_real", epochs, d_real);
    lecture_series(run, "mean_d_fake", epochs, d_fake);
    lecture_series(run, "epoch_seconds", epochs, seconds);
    lecture_number(run, "training_seconds", round(total * 100) / 100);
    if (epochs < planned)
        lecture_number(run, "budget_seconds", budget);

    if (!draw_curves(run, epochs, loss_d, loss_g, d_real, d_fake))
        goto done;
    snprintf(caption, sizeof caption,
             "Slide: « Cette stratégie est adverseriale car les modèles ont des objectifs antagonistes. » The "
             "mean losses over each epoch's batches (left) — D's falls when it tells real from generated images "
             "better, G's when it fools D better — and the mean of D = sigmoid(logit) on real and on generated "
             "images (right), beside their values when D cannot tell them apart (D = 1/2). %d epoch%s of %lld "
             "%s images, batches of %lld.",
             epochs, epochs > 1 ? "s" : "", (long long)train.count, train.name, (long long)batch);
    lecture_figure(run, "losses.png", caption);

    lecture_note(run, "The lecture trains a DCGAN on the bedroom class of LSUN (3M images an epoch); we train on "
                 "%s (%lld images of 28×28 an epoch, scaled to [-1, 1]): G maps z ~ N(0, I) in R^%d through a "
                 "linear layer and two transposed convolutions (7×7 → 14×14 → 28×28) with batch norm and ReLU to "
                 "a tanh image; D maps an image through two strided convolutions with LeakyReLU(0.2) and batch "
                 "norm to a logit, D = sigmoid(logit) ∈ [0, 1]. Adam, lr 2e-4, β1 = 0.5.",
                 train.name, (long long)train.count, GAN_LATENT);
    if (run->quick)
        lecture_note(run, "Quick run: %d epoch%s on the first %lld training images in batches of %lld — far too "
                     "little to make digits; `profond lecture gan` trains for %d epochs on all of them.",
                     epochs, epochs > 1 ? "s" : "", (long long)train.count, (long long)batch, SLIDE_EPOCHS);
    if (epochs < planned)
        lecture_note(run, "Stopped after %d of %d epochs to stay within this run's time budget of %.0f s; the "
                     "slide's grids after later epochs are missing here (`profond lecture gan` alone runs all %d, "
                     "about %.0f s an epoch on this machine).",
                     epochs, planned, budget, planned, total / epochs);
    lecture_note(run, "After %d epoch%s: D's loss %.3f and G's %.3f (2 log 2 = 1.386 and log 2 = 0.693 when D "
                 "answers 1/2 everywhere); D(x) = %.2f on training images, D(G(z)) = %.2f on generated ones.",
                 epochs, epochs > 1 ? "s" : "", loss_d[epochs - 1], loss_g[epochs - 1], d_real[epochs - 1],
                 d_fake[epochs - 1]);
    lecture_note(run, "Training took %.1f s (%.1f s an epoch) on this machine's CPU with %d thread%s.", total,
                 total / epochs, pf_get_num_threads(), pf_get_num_threads() > 1 ? "s" : "");
    status = 0;
done:
    pf_ctx_free(step);
    pf_ctx_free(params);
    pf_ctx_free(data);
    return status;
}
