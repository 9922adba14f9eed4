/*
 * test_lecture_autoencoder.c — the lecture's experiment "autoencoder"
 * (examples/lecture/autoencoder.c) on the MNIST files of ../shared/data/mnist:
 *
 *   quick run     the figures (a reconstruction grid per d, 3 rows of 36
 *                 digits; the errors against d; three interpolation strips,
 *                 6 pairs x 13 columns) exist and are PNG images of those
 *                 sizes; results.json has both error series for d = 2 .. 32,
 *                 finite and positive, PCA's falling with d; five models
 *                 and their records were saved;
 *   reuse         a second run loads the five saved models instead of
 *                 training (far less CPU time) and reports the same numbers;
 *                 --retrain trains them again, to the same numbers (training
 *                 is reproducible with a fixed seed); a model whose record
 *                 has other settings, or whose file is damaged, is trained
 *                 again, without failing the run;
 *   errors        a missing data folder fails cleanly;
 *   the claim     (not under sanitizers: minutes there) with the full
 *                 training and test sets, under a time budget that stops
 *                 each autoencoder after 1 of its 2 epochs (as `profond
 *                 lecture all` on a slow machine), the autoencoder's test
 *                 error is below PCA's at every d, and PCA's is PyTorch's;
 *                 a second run under a budget reuses those models.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lecture.h"
#include "lecture_testing.h"
#include "testing.h"

#define DATA PF_SHARED_DATA_DIR "/mnist"
#define N_SIZES 5

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

static char out_dir[256];
static const int latent_sizes[N_SIZES] = {2, 4, 8, 16, 32};

static bool write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static const char *path_in(const char *dir, const char *file)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/autoencoder/%s", dir, file);
    return path;
}

/* The results of a run, and the CPU seconds it took. */
typedef struct outcome {
    double mse_ae[N_SIZES], mse_pca[N_SIZES];
    int loaded;
    double cpu;
    cJSON *results;
} outcome;

/* Runs the experiment into dir and reads its results. */
static outcome run(const char *dir, bool quick, int epochs)
{
    const lecture_experiment *e = lecture_find("autoencoder");
    assert_non_null(e);
    clock_t c0 = clock();
    assert_int_equal(lecture_run_experiment(e, dir, quick, epochs, DATA, 0), 0);
    outcome o = {.cpu = (double)(clock() - c0) / CLOCKS_PER_SEC};
    o.results = pf_test_read_results(dir, "autoencoder");
    double sizes[N_SIZES];
    pf_test_series_n(o.results, "latent_sizes", sizes, N_SIZES);
    for (int i = 0; i < N_SIZES; i++)
        assert_true(sizes[i] == latent_sizes[i]);
    pf_test_series_n(o.results, "mse_ae", o.mse_ae, N_SIZES);
    pf_test_series_n(o.results, "mse_pca", o.mse_pca, N_SIZES);
    const cJSON *loaded = cJSON_GetObjectItem(cJSON_GetObjectItem(o.results, "numbers"), "models_loaded");
    assert_true(cJSON_IsNumber(loaded));
    o.loaded = (int)cJSON_GetNumberValue(loaded);
    return o;
}

static void assert_same_numbers(const outcome *a, const outcome *b)
{
    for (int i = 0; i < N_SIZES; i++) {
        if (a->mse_ae[i] != b->mse_ae[i])
            fail_msg("d = %d: autoencoder error %.6f, then %.6f", latent_sizes[i], a->mse_ae[i], b->mse_ae[i]);
        if (a->mse_pca[i] != b->mse_pca[i])
            fail_msg("d = %d: PCA error %.6f, then %.6f", latent_sizes[i], a->mse_pca[i], b->mse_pca[i]);
    }
}

/* ---- The quick run, its figures and numbers; then the reuse of its models. ---- */

static outcome first;

static void test_quick_run(void **state)
{
    (void)state;
    first = run(out_dir, true, 0);
    assert_int_equal(first.loaded, 0);
    /* The figures: each registered, captioned, a PNG of the right size. */
    const cJSON *figures = cJSON_GetObjectItem(first.results, "figures"), *fig;
    assert_int_equal(cJSON_GetArraySize(figures), N_SIZES + 4);
    int recon = 0, interp = 0;
    cJSON_ArrayForEach(fig, figures) {
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(fig, "file"));
        const char *caption = cJSON_GetStringValue(cJSON_GetObjectItem(fig, "caption"));
        assert_non_null(file);
        assert_non_null(caption);
        if (strncmp(file, "reconstructions_d", 17) == 0) {
            /* 36 digits of 28x28 pixels, magnified twice, with 1-pixel borders, in 3 rows. */
            pf_test_assert_png_header(path_in(out_dir, file), 36 * 57 + 1, 3 * 57 + 1, 100);
            char expected[64];
            snprintf(expected, sizeof expected, "reconstructions_d%d.png", latent_sizes[recon++]);
            assert_string_equal(file, expected);
        } else if (strncmp(file, "interpolation_", 14) == 0) {
            /* 6 pairs: x, 11 values of α, x'. */
            pf_test_assert_png_header(path_in(out_dir, file), 13 * 57 + 1, 6 * 57 + 1, 100);
            assert_non_null(strstr(caption, "ξ(x, x', α) = g((1 − α) f(x) + α f(x'))"));
            interp++;
        } else {
            assert_string_equal(file, "mse.png");
            pf_test_assert_png_header(path_in(out_dir, file), 0, 0, 100);
        }
    }
    assert_int_equal(recon, N_SIZES);
    assert_int_equal(interp, 3);
    pf_test_assert_png_header(path_in(out_dir, "interpolation_pca_d32.png"), 13 * 57 + 1, 6 * 57 + 1, 100);
    pf_test_assert_png_header(path_in(out_dir, "interpolation_ae_d8.png"), 13 * 57 + 1, 6 * 57 + 1, 100);
    pf_test_assert_png_header(path_in(out_dir, "interpolation_ae_d32.png"), 13 * 57 + 1, 6 * 57 + 1, 100);

    /* The numbers: errors in (0, 1) per pixel; PCA's falls as d grows. */
    for (int i = 0; i < N_SIZES; i++) {
        assert_true(first.mse_ae[i] > 0 && first.mse_ae[i] < 1);
        assert_true(first.mse_pca[i] > 0 && first.mse_pca[i] < 1);
        if (i > 0 && !(first.mse_pca[i] < first.mse_pca[i - 1]))
            fail_msg("PCA's error at d = %d (%g) is not below that at d = %d (%g)", latent_sizes[i],
                     first.mse_pca[i], latent_sizes[i - 1], first.mse_pca[i - 1]);
        char file[64];
        snprintf(file, sizeof file, "ae_d%d-quick.safetensors", latent_sizes[i]);
        FILE *f = fopen(path_in(out_dir, file), "rb");
        if (!f)
            fail_msg("%s was not saved", file);
        fclose(f);
        snprintf(file, sizeof file, "ae_d%d-quick.json", latent_sizes[i]);
        char *record = pf_test_read_text(path_in(out_dir, file), NULL);
        if (!record)
            fail_msg("%s was not written", file);
        free(record);
    }
    /* Quick mode says so. */
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(first.results, "notes"));
    assert_non_null(strstr(text, "Quick run"));
    cJSON_free(text);
}

static void test_reuse(void **state)
{
    (void)state;
    assert_non_null(first.results); /* test_quick_run ran */
    outcome again = run(out_dir, true, 0);
    assert_int_equal(again.loaded, N_SIZES);
    assert_same_numbers(&first, &again);
    /* No training: far less work (CPU time, which other processes on the
     * machine do not inflate). */
    print_message("CPU seconds: first run %.2f, run with the saved models %.2f\n", first.cpu, again.cpu);
    if (!(again.cpu < 0.6 * first.cpu))
        fail_msg("the run with saved models took %.2f CPU seconds, the first %.2f", again.cpu, first.cpu);
    cJSON_Delete(again.results);

    /* --retrain: trained again, to the very same numbers. */
    lecture_set_retrain(true);
    outcome retrained = run(out_dir, true, 0);
    lecture_set_retrain(false);
    assert_int_equal(retrained.loaded, 0);
    assert_same_numbers(&first, &retrained);
    cJSON_Delete(retrained.results);
}

static void test_stale_or_damaged_models(void **state)
{
    (void)state;
    assert_non_null(first.results);
    /* d = 2: the record says another learning rate. */
    char *record = pf_test_read_text(path_in(out_dir, "ae_d2-quick.json"), NULL);
    assert_non_null(record);
    char *lr = strstr(record, "\"lr\"");
    assert_non_null(lr);
    char *digit = strpbrk(lr, "0123456789");
    assert_non_null(digit);
    *digit = *digit == '9' ? '8' : '9';
    assert_true(write_text(path_in(out_dir, "ae_d2-quick.json"), record));
    free(record);
    /* d = 8: the model file is cut short. */
    char *model = NULL;
    FILE *f = fopen(path_in(out_dir, "ae_d8-quick.safetensors"), "rb");
    assert_non_null(f);
    model = malloc(1000);
    assert_int_equal(fread(model, 1, 1000, f), 1000);
    fclose(f);
    f = fopen(path_in(out_dir, "ae_d8-quick.safetensors"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(model, 1, 1000, f), 1000);
    fclose(f);
    free(model);
    /* d = 16: no record. */
    assert_int_equal(remove(path_in(out_dir, "ae_d16-quick.json")), 0);

    outcome o = run(out_dir, true, 0);
    assert_int_equal(o.loaded, N_SIZES - 3);
    assert_same_numbers(&first, &o);
    cJSON_Delete(o.results);
    /* All five are reusable again. */
    o = run(out_dir, true, 0);
    assert_int_equal(o.loaded, N_SIZES);
    cJSON_Delete(o.results);
}

static void test_missing_data(void **state)
{
    (void)state;
    const lecture_experiment *e = lecture_find("autoencoder");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/missing", out_dir);
    assert_int_not_equal(lecture_run_experiment(e, dir, true, 0, "/nonexistent/mnist-folder", 0), 0);
    FILE *f = fopen(path_in(dir, "results.json"), "rb");
    assert_null(f);
    pf_error_clear();
}

/* ---- The slide's claim, with all the digits. ---- */

/* As `profond lecture all` runs it on a slow machine: under a time budget
 * that stops every autoencoder after its first epoch (of 2). */
static void test_autoencoder_beats_pca(void **state)
{
    (void)state;
#ifdef UNDER_SANITIZER
    skip();
#endif
    char dir[300];
    snprintf(dir, sizeof dir, "%s/full", out_dir);
    lecture_set_budget(1e-3);
    outcome o = run(dir, false, 0);
    print_message("under a time budget, 60,000 training digits (%.1f CPU seconds); test error per pixel:\n", o.cpu);
    for (int i = 0; i < N_SIZES; i++)
        print_message("  d = %2d   autoencoder %.5f   PCA %.5f\n", latent_sizes[i], o.mse_ae[i], o.mse_pca[i]);
    for (int i = 0; i < N_SIZES; i++)
        if (!(o.mse_ae[i] < o.mse_pca[i]))
            fail_msg("d = %d: the autoencoder's test error %.5f is not below PCA's %.5f", latent_sizes[i],
                     o.mse_ae[i], o.mse_pca[i]);
    /* PCA's errors on the 10,000 test digits, as computed by PyTorch
     * (torch.linalg.eigh of torch.cov of the 60,000 training digits). */
    static const double torch_pca[N_SIZES] = {0.0556695, 0.0479035, 0.0374410, 0.0268603, 0.0168282};
    for (int i = 0; i < N_SIZES; i++)
        if (fabs(o.mse_pca[i] - torch_pca[i]) > 2e-6)
            fail_msg("d = %d: PCA's test error %.7f, PyTorch's %.7f", latent_sizes[i], o.mse_pca[i], torch_pca[i]);
    const cJSON *epochs = cJSON_GetObjectItem(cJSON_GetObjectItem(o.results, "numbers"), "epochs");
    assert_true(cJSON_GetNumberValue(epochs) == 2);
    /* A later run under a budget reuses these models, however far they got. */
    outcome again = run(dir, false, 0);
    lecture_set_budget(0);
    assert_int_equal(again.loaded, N_SIZES);
    assert_same_numbers(&o, &again);
    cJSON_Delete(again.results);
    cJSON_Delete(o.results);
}

int main(void)
{
    if (!pf_test_make_temp_dir(out_dir, sizeof out_dir, "lecture_autoencoder"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_run),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_stale_or_damaged_models),
        cmocka_unit_test(test_missing_data),
        cmocka_unit_test(test_autoencoder_beats_pca),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cJSON_Delete(first.results);
    pf_test_remove_dir(out_dir);
    return failed;
}
