/*
 * test_lecture_gan.c — the lecture's GAN (examples/lecture/gan.c):
 *
 *   steps         three alternating steps on 16 MNIST digits: finite
 *                 losses, D's outputs in [0, 1], both networks' parameters
 *                 move and carry nonzero gradients;
 *   directions    with the other network held fixed, D's steps lower D's
 *                 loss on a fixed real and generated batch, and G's steps
 *                 raise D(G(z)) for a fixed z;
 *   latent size   0, negative or huge: a clean error; a batch of the wrong
 *                 shape too;
 *   quick run     `profond lecture gan --quick` twice with the same seed:
 *                 identical losses and generator files; its figures are
 *                 PNG images libpng decodes; the saved generator loads;
 *   epochs        on a tiny folder of random images: grids after epochs 1
 *                 and 2 and after the last (3); under a time budget the
 *                 default 20 epochs stop after the first, and say so;
 *   bad data      a missing folder, or images that are not 28x28: a clean
 *                 error and no results.json.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gan.h"
#include "lecture.h"
#include "lecture_testing.h"
#include "testing.h"

#define DATA PF_SHARED_DATA_DIR "/mnist"

static char out_dir[256];

/* ---- helpers ---- */

static bool exists(const char *dir, const char *file)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return stat(path, &st) == 0;
}

/* Copies of a network's parameters (floats, in state order) into out. */
static int64_t snapshot(pf_module *m, float *out, int64_t max)
{
    pf_named_tensor *p;
    int n = pf_module_parameters(m, &p);
    PF_CHECK(n > 0);
    int64_t used = 0;
    for (int i = 0; i < n; i++) {
        int64_t k = pf_numel(p[i].tensor);
        assert_true(used + k <= max);
        PF_CHECK(pf_copy_to_f32(p[i].tensor, out + used));
        used += k;
    }
    return used;
}

/* Sum of |gradient| over the parameters of a network that have one, and
 * how many have none. */
static double gradient_norm(pf_module *m, int *missing)
{
    pf_named_tensor *p;
    int n = pf_module_parameters(m, &p);
    PF_CHECK(n > 0);
    double sum = 0;
    *missing = 0;
    for (int i = 0; i < n; i++) {
        pf_tensor *grad = p[i].tensor->grad;
        if (!grad) {
            (*missing)++;
            continue;
        }
        int64_t k = pf_numel(grad);
        float *v = malloc(sizeof(float) * (size_t)k);
        assert_non_null(v);
        PF_CHECK(pf_copy_to_f32(grad, v));
        for (int64_t j = 0; j < k; j++)
            sum += fabs(v[j]);
        free(v);
    }
    return sum;
}

/* The first n training digits of MNIST as [n, 1, 28, 28] in [-1, 1]. */
static pf_tensor *real_digits(pf_ctx *ctx, int64_t n)
{
    pf_dataset d;
    PF_CHECK(pf_dataset_load(ctx, DATA, true, &d));
    pf_tensor *x = pf_to_dtype(ctx, pf_narrow(ctx, d.images, 0, 0, n), PF_F32);
    x = pf_add_scalar(ctx, pf_mul_scalar(ctx, pf_reshape(ctx, x, PF_DIMS(n, 1, 28, 28)), 2.0 / 255), -1);
    PF_CHECK(x != NULL);
    return x;
}

/* ---- the networks, step by step ---- */

#define TINY 16
#define MAX_VALUES 1000000

static void test_steps(void **state)
{
    pf_ctx *ctx = *state, *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_manual_seed(1);
    gan g;
    PF_CHECK(gan_make(&g, params, GAN_LATENT));
    pf_tensor *real = real_digits(ctx, TINY);
    float *g0 = malloc(sizeof(float) * MAX_VALUES), *g1 = malloc(sizeof(float) * MAX_VALUES);
    float *d0 = malloc(sizeof(float) * MAX_VALUES), *d1 = malloc(sizeof(float) * MAX_VALUES);
    assert_true(g0 && g1 && d0 && d1);
    int64_t ng = snapshot(g.generator, g0, MAX_VALUES), nd = snapshot(g.discriminator, d0, MAX_VALUES);

    for (int s = 0; s < 3; s++) {
        gan_losses l;
        PF_CHECK(gan_step(&g, step, real, &l));
        pf_ctx_reset(step);
        if (!isfinite(l.d) || !isfinite(l.g) || l.d <= 0 || l.g <= 0)
            fail_msg("step %d: losses D %g, G %g", s + 1, l.d, l.g);
        assert_true(l.d_real >= 0 && l.d_real <= 1 && l.d_fake >= 0 && l.d_fake <= 1);
    }

    /* Both networks moved, every parameter of each carries a gradient, and
     * the gradients are not all zero. */
    assert_int_equal(snapshot(g.generator, g1, MAX_VALUES), ng);
    assert_int_equal(snapshot(g.discriminator, d1, MAX_VALUES), nd);
    double moved_g = 0, moved_d = 0;
    for (int64_t i = 0; i < ng; i++)
        moved_g += fabs((double)g1[i] - g0[i]);
    for (int64_t i = 0; i < nd; i++)
        moved_d += fabs((double)d1[i] - d0[i]);
    if (!(moved_g > 0 && moved_d > 0))
        fail_msg("parameters moved by %g (G) and %g (D)", moved_g, moved_d);
    int missing_g, missing_d;
    double grad_g = gradient_norm(g.generator, &missing_g), grad_d = gradient_norm(g.discriminator, &missing_d);
    assert_int_equal(missing_g, 0);
    assert_int_equal(missing_d, 0);
    if (!(grad_g > 0 && grad_d > 0 && isfinite(grad_g) && isfinite(grad_d)))
        fail_msg("gradient norms %g (G) and %g (D)", grad_g, grad_d);

    /* Samples: 28x28 images in [-1, 1], modules left in training mode. */
    pf_tensor *x = gan_sample(&g, step, pf_randn(step, PF_DIMS(4, GAN_LATENT)));
    PF_ASSERT_SHAPE(x, 4, 1, 28, 28);
    float v[4 * 28 * 28];
    PF_CHECK(pf_copy_to_f32(x, v));
    for (int i = 0; i < 4 * 28 * 28; i++)
        assert_true(v[i] >= -1 && v[i] <= 1);
    assert_true(pf_module_is_training(g.generator));
    assert_true(pf_is_grad_enabled());

    free(g0);
    free(g1);
    free(d0);
    free(d1);
    pf_ctx_free(step);
    pf_ctx_free(params);
}

/* D's loss on real and on (detached) generated images. */
static pf_tensor *d_loss(pf_ctx *step, gan *g, pf_tensor *real, pf_tensor *fake)
{
    int64_t b = real->shape[0];
    return pf_add(step,
                  pf_bce_with_logits(step, pf_forward(step, g->discriminator, real), pf_ones(step, PF_DIMS(b, 1)),
                                     PF_REDUCTION_MEAN),
                  pf_bce_with_logits(step, pf_forward(step, g->discriminator, fake), pf_zeros(step, PF_DIMS(b, 1)),
                                     PF_REDUCTION_MEAN));
}

static void test_directions(void **state)
{
    pf_ctx *ctx = *state, *params = pf_ctx_new(0), *step = pf_ctx_new(0);
    pf_manual_seed(2);
    gan g;
    PF_CHECK(gan_make(&g, params, GAN_LATENT));
    pf_tensor *real = real_digits(ctx, TINY);
    pf_tensor *z = pf_randn(ctx, PF_DIMS(TINY, GAN_LATENT));
    pf_tensor *fake = gan_sample(&g, ctx, z); /* fixed: no tape */
    PF_CHECK(fake != NULL);

    /* D alone, five steps: its loss falls. */
    double first = 0, last = 0;
    for (int s = 0; s < 5; s++) {
        pf_tensor *loss = d_loss(step, &g, real, fake);
        double value = pf_item(loss);
        pf_optim_zero_grad(g.opt_d);
        PF_CHECK(pf_backward(loss) && pf_optim_step(g.opt_d));
        pf_ctx_reset(step);
        if (s == 0)
            first = value;
        last = value;
    }
    if (!(last < first))
        fail_msg("D's loss went from %g to %g in 5 of its steps", first, last);

    /* G alone, five steps: D(G(z)) rises for the same z (D in evaluation
     * mode, so that the batch does not change its answers). */
    pf_module_train(g.discriminator, false);
    double before = 0, after = 0;
    for (int s = 0; s < 6; s++) {
        pf_tensor *logits = pf_forward(step, g.discriminator, pf_forward(step, g.generator, z));
        pf_tensor *loss = pf_bce_with_logits(step, logits, pf_ones(step, PF_DIMS(TINY, 1)), PF_REDUCTION_MEAN);
        double value = pf_item(pf_mean(step, pf_sigmoid(step, pf_detach(step, logits))));
        if (s == 0)
            before = value;
        after = value;
        if (s < 5) {
            pf_optim_zero_grad(g.opt_g);
            PF_CHECK(pf_backward(loss) && pf_optim_step(g.opt_g));
        }
        pf_ctx_reset(step);
    }
    PF_CHECK(pf_ok());
    if (!(after > before))
        fail_msg("D(G(z)) went from %g to %g in 5 steps of G", before, after);
    pf_ctx_free(step);
    pf_ctx_free(params);
}

static void test_bad_sizes(void **state)
{
    pf_ctx *ctx = *state;
    gan g;
    const int bad[] = {0, -1, -100, GAN_MAX_LATENT + 1, 1 << 30};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pf_ctx *params = pf_ctx_new(0);
        assert_false(gan_make(&g, params, bad[i]));
        PF_ASSERT_ERROR("latent size");
        pf_ctx_free(params);
    }
    assert_false(gan_make(&g, NULL, GAN_LATENT));
    PF_ASSERT_ERROR("gan");

    /* A small latent size is fine; a batch of the wrong shape is not. */
    pf_ctx *params = pf_ctx_new(0);
    PF_CHECK(gan_make(&g, params, 2));
    gan_losses l;
    assert_false(gan_step(&g, ctx, pf_zeros(ctx, PF_DIMS(4, 1, 14, 14)), &l));
    PF_ASSERT_ERROR("[4,1,14,14]");
    assert_false(gan_step(&g, ctx, pf_zeros(ctx, PF_DIMS(1, 1, 28, 28)), &l));
    PF_ASSERT_ERROR("B >= 2");
    assert_false(gan_step(&g, ctx, NULL, &l));
    PF_ASSERT_ERROR("gan_step");
    pf_ctx_free(params);
}

/* ---- the experiment ---- */

static int run_gan(const char *out, bool quick, int epochs, const char *data, unsigned long long seed)
{
    const lecture_experiment *e = lecture_find("gan");
    assert_non_null(e);
    return lecture_run_experiment(e, out, quick, epochs, data, seed);
}

static void test_quick_reproducible(void **state)
{
    (void)state;
    char a[300], b[300], dir[400];
    snprintf(a, sizeof a, "%s/quick-a", out_dir);
    snprintf(b, sizeof b, "%s/quick-b", out_dir);
    lecture_set_budget(0);
    assert_int_equal(run_gan(a, true, 0, DATA, 7), 0);
    assert_int_equal(run_gan(b, true, 0, DATA, 7), 0);

    cJSON *ra = pf_test_read_results(a, "gan"), *rb = pf_test_read_results(b, "gan");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ra, "quick")));
    assert_true(pf_test_number(ra, "epochs") == 1 && pf_test_number(ra, "train_images") == 256 && pf_test_number(ra, "latent_size") == 100);
    const char *keys[] = {"loss_d", "loss_g", "mean_d_real", "mean_d_fake"};
    for (int k = 0; k < 4; k++) {
        double va[4], vb[4];
        assert_int_equal(pf_test_series(ra, keys[k], va, 4), 1);
        assert_int_equal(pf_test_series(rb, keys[k], vb, 4), 1);
        if (va[0] != vb[0] || !isfinite(va[0]))
            fail_msg("%s: %.17g then %.17g with the same seed", keys[k], va[0], vb[0]);
    }
    assert_true(pf_test_notes_contain(ra, "Quick run"));
    assert_true(pf_test_notes_contain(ra, "we train on"));
    assert_true(pf_test_notes_contain(ra, "LSUN"));

    /* The same networks, byte for byte. */
    const char *files[] = {"generator.safetensors", "discriminator.safetensors"};
    for (int f = 0; f < 2; f++) {
        char pa[512], pb[512];
        long sa = 0, sb = 0;
        snprintf(pa, sizeof pa, "%s/gan/%s", a, files[f]);
        snprintf(pb, sizeof pb, "%s/gan/%s", b, files[f]);
        char *ba = pf_test_read_text(pa, &sa), *bb = pf_test_read_text(pb, &sb);
        assert_true(ba && bb);
        assert_true(sa == sb && memcmp(ba, bb, (size_t)sa) == 0);
        free(ba);
        free(bb);
    }

    /* The figures: training images, samples after the one epoch, curves;
     * each a PNG libpng decodes. */
    snprintf(dir, sizeof dir, "%s/gan", a);
    const cJSON *figure;
    int n_figures = 0;
    cJSON_ArrayForEach(figure, cJSON_GetObjectItem(ra, "figures"))
    {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(figure, "file")->valuestring);
        pf_test_assert_png_decodes(path, 16);
        assert_true(strlen(cJSON_GetObjectItem(figure, "caption")->valuestring) > 20);
        n_figures++;
    }
    assert_int_equal(n_figures, 3);
    assert_true(exists(dir, "real.png") && exists(dir, "samples_epoch_01.png") && exists(dir, "losses.png"));
    assert_false(exists(dir, "samples_epoch_01.png.tmp"));

    /* The saved generator loads into a fresh one. */
    pf_ctx *params = pf_ctx_new(0);
    gan g;
    PF_CHECK(gan_make(&g, params, GAN_LATENT));
    char path[600];
    snprintf(path, sizeof path, "%s/generator.safetensors", dir);
    PF_CHECK(pf_module_load(g.generator, path));
    pf_ctx_free(params);
    cJSON_Delete(ra);
    cJSON_Delete(rb);
}

/* Writes an IDX file of unsigned bytes. */
/* An MNIST-style folder of `count` random side x side images. */
static void write_tiny_data(const char *dir, int count, int side)
{
    size_t pixels = (size_t)count * (size_t)side * (size_t)side;
    unsigned char *images = malloc(pixels), *labels = malloc((size_t)count);
    assert_true(images && labels);
    unsigned s = 12345;
    for (size_t i = 0; i < pixels; i++) {
        s = s * 1103515245u + 12345u;
        images[i] = (unsigned char)(s >> 24);
    }
    for (int i = 0; i < count; i++)
        labels[i] = (unsigned char)(i % 10);
    assert_int_equal(mkdir(dir, 0777), 0);
    pf_test_write_idx(dir, "train-images-idx3-ubyte", 3, (const int[]){count, side, side}, images, pixels);
    pf_test_write_idx(dir, "train-labels-idx1-ubyte", 1, (const int[]){count}, labels, (size_t)count);
    pf_test_write_idx(dir, "t10k-images-idx3-ubyte", 3, (const int[]){count, side, side}, images, pixels);
    pf_test_write_idx(dir, "t10k-labels-idx1-ubyte", 1, (const int[]){count}, labels, (size_t)count);
    free(images);
    free(labels);
}

static void test_epochs(void **state)
{
    (void)state;
    char data[300], out[300], dir[400];
    snprintf(data, sizeof data, "%s/tiny-28", out_dir);
    snprintf(out, sizeof out, "%s/epochs", out_dir);
    snprintf(dir, sizeof dir, "%s/gan", out);
    write_tiny_data(data, 40, 28);

    /* --epochs 3 (not quick; 40 images, one batch an epoch): grids after
     * epochs 1 and 2, the slide's, and after the last one, 3. */
    lecture_set_budget(1e-6); /* ignored: the epochs were asked for */
    int status = run_gan(out, false, 3, data, 0);
    lecture_set_budget(0);
    assert_int_equal(status, 0);
    cJSON *r = pf_test_read_results(out, "gan");
    double values[32];
    assert_true(pf_test_number(r, "epochs") == 3 && pf_test_number(r, "batch_size") == 40);
    assert_int_equal(pf_test_series(r, "loss_d", values, 32), 3);
    assert_int_equal(pf_test_series(r, "loss_g", values, 32), 3);
    assert_int_equal(pf_test_series(r, "epoch_seconds", values, 32), 3);
    assert_true(exists(dir, "samples_epoch_01.png") && exists(dir, "samples_epoch_02.png") &&
                exists(dir, "samples_epoch_03.png"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "figures")), 5);
    assert_false(pf_test_notes_contain(r, "Stopped"));
    cJSON_Delete(r);

    /* The default 20 epochs under a budget the first epoch uses up: one
     * epoch, and the page says so. */
    snprintf(out, sizeof out, "%s/budget", out_dir);
    snprintf(dir, sizeof dir, "%s/gan", out);
    lecture_set_budget(1e-6);
    status = run_gan(out, false, 0, data, 0);
    lecture_set_budget(0);
    assert_int_equal(status, 0);
    r = pf_test_read_results(out, "gan");
    assert_true(pf_test_number(r, "epochs") == 1 && pf_test_number(r, "budget_seconds") == 1e-6);
    assert_true(pf_test_notes_contain(r, "Stopped after 1 of 20 epochs"));
    assert_true(exists(dir, "samples_epoch_01.png") && !exists(dir, "samples_epoch_02.png"));
    cJSON_Delete(r);
}

static void test_bad_data(void **state)
{
    (void)state;
    char out[300], data[300];
    snprintf(out, sizeof out, "%s/bad", out_dir);
    assert_int_not_equal(run_gan(out, true, 0, "/nonexistent/profond-gan-data", 0), 0);
    assert_false(exists(out, "gan/results.json"));
    pf_error_clear();

    snprintf(data, sizeof data, "%s/tiny-14", out_dir);
    write_tiny_data(data, 20, 14);
    assert_int_not_equal(run_gan(out, true, 0, data, 0), 0);
    assert_false(exists(out, "gan/results.json"));
    pf_error_clear();
}

int main(void)
{
    if (!pf_test_make_temp_dir(out_dir, sizeof out_dir, "lecture_gan"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_steps, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_directions, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bad_sizes, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_quick_reproducible, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_epochs, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_bad_data, pf_test_setup, pf_test_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pf_test_remove_dir(out_dir);
    return failed;
}
