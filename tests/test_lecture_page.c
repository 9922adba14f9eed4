/*
 * test_lecture_page.c — `profond lecture all` as a test: every experiment of
 * the lecture (examples/lecture/) at quick sizes into a temporary folder, on
 * the MNIST files of ../shared/data/mnist, then the page, index.html. Checks:
 *
 *   the page    every experiment of the table has its section, in lecture
 *               order, with at least one figure; every <img src> names a
 *               file under the folder that exists and is a PNG image that
 *               libpng decodes to the last row; every figure has a caption;
 *               no script, no stylesheet or image from elsewhere, no link
 *               out of the page (it opens with no network and no
 *               JavaScript);
 *   mnist       the numbers of the quick run: one value per epoch in each
 *               series, a final error that is that of the last epoch and
 *               well below chance, a falling loss, times that add up;
 *   the budget  under a time budget (as `profond lecture all` sets one)
 *               mnist stops after the first epoch that uses it up, and says
 *               so; asked-for epochs all run (on a tiny folder of random
 *               digits written by the test: it checks epochs, not accuracy).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lecture.h"
#include "lecture_testing.h"
#include "testing.h"

#define DATA PF_SHARED_DATA_DIR "/mnist"
/* mnist --quick: 2 epochs on 3,000 training digits. The error on the first
 * 1,000 test digits was 40.7% (chance: 90%); this leaves a wide margin for
 * other thread counts and summation orders while still saying it learned. */
#define QUICK_EPOCHS 2
#define QUICK_MAX_ERROR 60.0

static char out_dir[256];
static bool ran_all;

/* The text between open and close (after from), or NULL. */
static char *between(const char *from, const char *open, const char *close, const char **end)
{
    const char *a = strstr(from, open);
    const char *b = a ? strstr(a + strlen(open), close) : NULL;
    if (!b)
        return NULL;
    a += strlen(open);
    char *s = malloc((size_t)(b - a) + 1);
    assert_non_null(s);
    memcpy(s, a, (size_t)(b - a));
    s[b - a] = '\0';
    *end = b + strlen(close);
    return s;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static bool has_text(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\t')
            return true;
    return false;
}

/* Checks one <section> of the page: its figures, their captions and images,
 * and that it shows as many figures as the experiment's results.json. */
static void check_section(const char *name, const char *section)
{
    int figures = count(section, "<figure"), images = count(section, "<img "), captions = 0;
    if (figures < 1)
        fail_msg("section %s: no figure", name);
    if (images != figures)
        fail_msg("section %s: %d images in %d figures", name, images, figures);
    const char *p = section, *end;
    char *caption;
    while ((caption = between(p, "<figcaption>", "</figcaption>", &end))) {
        if (!has_text(caption))
            fail_msg("section %s: an empty caption", name);
        free(caption);
        captions++;
        p = end;
    }
    if (captions != figures)
        fail_msg("section %s: %d captions for %d figures", name, captions, figures);

    char *src;
    for (p = section; (src = between(p, "<img src=\"", "\"", &end)); p = end) {
        /* A file of this folder, named by a relative path. */
        if (src[0] == '/' || strstr(src, "..") || strchr(src, ':') || strchr(src, '&'))
            fail_msg("section %s: image %s is not a plain relative path", name, src);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", out_dir, src);
        pf_test_assert_png_decodes(path, 16);
        free(src);
    }
    cJSON *results = pf_test_read_results(out_dir, name);
    int registered = cJSON_GetArraySize(cJSON_GetObjectItem(results, "figures"));
    cJSON_Delete(results);
    if (registered != figures)
        fail_msg("section %s: %d figures on the page, %d in results.json", name, figures, registered);
}

static void run_all(void)
{
    if (ran_all)
        return;
    lecture_set_budget(0);
    for (int i = 0; i < lecture_experiment_count; i++)
        if (lecture_run_experiment(&lecture_experiments[i], out_dir, true, 0, DATA, 0) != 0)
            fail_msg("experiment %s failed", lecture_experiments[i].name);
    assert_int_equal(lecture_write_html(out_dir), 0);
    ran_all = true;
}

static void test_page(void **state)
{
    (void)state;
    run_all();
    char path[512];
    snprintf(path, sizeof path, "%s/index.html", out_dir);
    char *page = pf_test_read_text(path, NULL);
    assert_non_null(page);
    assert_true(strncmp(page, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(page, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(page, "</html>"));
    /* No network, no JavaScript (in any letter case). */
    char *lower = strdup(page);
    assert_non_null(lower);
    for (char *c = lower; *c; c++)
        *c = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
    static const char *const forbidden[] = {"<script", "javascript:", "<link", "<iframe", "<object", "<embed",
                                            "@import", "url(", "src=\"http", "src=\"//", "srcset"};
    for (size_t i = 0; i < sizeof forbidden / sizeof *forbidden; i++)
        if (strstr(lower, forbidden[i]))
            fail_msg("index.html has %s: it must open with no network and no script", forbidden[i]);
    /* Links only within the page (an address may appear as text). */
    const char *end;
    char *href;
    for (const char *p = lower; (href = between(p, "href=\"", "\"", &end)); p = end) {
        if (href[0] != '#')
            fail_msg("index.html links to %s, outside the page", href);
        free(href);
    }
    free(lower);
    /* Every experiment, in lecture order, each section checked. */
    const char *previous = page;
    int images = 0;
    for (int i = 0; i < lecture_experiment_count; i++) {
        const char *name = lecture_experiments[i].name;
        char open[128], *section;
        snprintf(open, sizeof open, "<section id=\"%s\">", name);
        if (!strstr(page, open))
            fail_msg("index.html has no section for %s", name);
        if (strstr(page, open) < previous)
            fail_msg("index.html: %s is out of lecture order", name);
        section = between(page, open, "</section>", &end);
        assert_non_null(section);
        check_section(name, section);
        images += count(section, "<img ");
        free(section);
        previous = end;
    }
    /* No image outside the sections. */
    assert_int_equal(count(page, "<img "), images);
    free(page);
}

static void test_mnist_quick(void **state)
{
    (void)state;
    run_all();
    cJSON *r = pf_test_read_results(out_dir, "mnist");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "quick")));
    const int epochs = (int)pf_test_number(r, "epochs");
    assert_int_equal(epochs, QUICK_EPOCHS);
    double loss[QUICK_EPOCHS], error[QUICK_EPOCHS], seconds[QUICK_EPOCHS], cumulative[QUICK_EPOCHS];
    pf_test_series_n(r, "train_loss", loss, epochs);
    pf_test_series_n(r, "test_error_percent", error, epochs);
    pf_test_series_n(r, "epoch_seconds", seconds, epochs);
    pf_test_series_n(r, "cumulative_seconds", cumulative, epochs);
    assert_true(pf_test_number(r, "train_images") == 3000 && pf_test_number(r, "test_images") == 1000);

    /* It learned: the loss falls, the error ends far below chance (90%). */
    assert_true(loss[0] > 0 && loss[0] < 2.5);
    for (int e = 0; e + 1 < epochs; e++)
        if (!(loss[e + 1] < loss[e]))
            fail_msg("training loss rose from %g to %g at epoch %d", loss[e], loss[e + 1], e + 2);
    double final_error = pf_test_number(r, "final_test_error_percent");
    assert_true(final_error == error[epochs - 1]);
    if (!(final_error < QUICK_MAX_ERROR))
        fail_msg("quick mnist: test error %g%%, expected below %g%%", final_error, QUICK_MAX_ERROR);
    for (int e = 0; e < epochs; e++)
        assert_true(error[e] >= 0 && error[e] <= 100);

    /* Times: positive, and the cumulative series adds them up. */
    double sum = 0;
    for (int e = 0; e < epochs; e++) {
        assert_true(seconds[e] >= 0);
        sum += seconds[e];
        if (cumulative[e] < sum - 0.002 * (e + 1) || cumulative[e] > sum + 0.002 * (e + 1))
            fail_msg("cumulative_seconds[%d] = %g, but the epochs add up to %g", e, cumulative[e], sum);
    }
    assert_true(pf_test_number(r, "training_seconds") == cumulative[epochs - 1] && cumulative[epochs - 1] > 0);

    /* The figures (curves, digits, the digits it gets wrong), and notes
     * that say it was a quick run and compare with the slide. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "figures")), 3);
    assert_true(pf_test_notes_contain(r, "Quick run"));
    assert_true(pf_test_notes_contain(r, "the slide: ≃ 1%"));
    assert_true(pf_test_notes_contain(r, "< 10 s"));
    cJSON_Delete(r);
}

/* Writes an IDX file: a 32-bit big-endian magic (unsigned bytes, ndim
 * dimensions), the dimensions, then n bytes. */
/* A tiny MNIST-style folder of random digits (the budget test needs epochs,
 * not accuracy): 200 training and 100 test images. */
static void write_tiny_data(const char *dir)
{
    enum { TRAIN = 200, TEST = 100, PIXELS = 28 * 28 };
    static unsigned char images[TRAIN * PIXELS], labels[TRAIN];
    unsigned state = 12345;
    for (size_t i = 0; i < sizeof images; i++) {
        state = state * 1103515245u + 12345u;
        images[i] = (unsigned char)(state >> 24);
    }
    for (int i = 0; i < TRAIN; i++)
        labels[i] = (unsigned char)(i % 10);
    assert_int_equal(mkdir(dir, 0777), 0);
    pf_test_write_idx(dir, "train-images-idx3-ubyte", 3, (const int[]){TRAIN, 28, 28}, images, sizeof images);
    pf_test_write_idx(dir, "train-labels-idx1-ubyte", 1, (const int[]){TRAIN}, labels, TRAIN);
    pf_test_write_idx(dir, "t10k-images-idx3-ubyte", 3, (const int[]){TEST, 28, 28}, images, (size_t)TEST * PIXELS);
    pf_test_write_idx(dir, "t10k-labels-idx1-ubyte", 1, (const int[]){TEST}, labels, TEST);
}

static void test_mnist_budget(void **state)
{
    (void)state;
    char data[300], out[300];
    snprintf(data, sizeof data, "%s/tiny-data", out_dir);
    snprintf(out, sizeof out, "%s/budget", out_dir);
    write_tiny_data(data);
    const lecture_experiment *e = lecture_find("mnist");
    assert_non_null(e);

    /* A budget used up by the first epoch: it stops there and says so. */
    lecture_set_budget(1e-6);
    int status = lecture_run_experiment(e, out, true, 0, data, 0);
    lecture_set_budget(0);
    assert_int_equal(status, 0);
    cJSON *r = pf_test_read_results(out, "mnist");
    assert_true(pf_test_number(r, "epochs") == 1 && pf_test_number(r, "train_images") == 200);
    assert_true(pf_test_number(r, "budget_seconds") == 1e-6);
    double values[3];
    pf_test_series_n(r, "train_loss", values, 1);
    pf_test_series_n(r, "test_error_percent", values, 1);
    assert_true(pf_test_notes_contain(r, "Stopped after 1 of 2 epochs"));
    cJSON_Delete(r);

    /* Epochs asked for (--epochs) all run, budget or not. */
    lecture_set_budget(1e-6);
    status = lecture_run_experiment(e, out, true, 3, data, 0);
    lecture_set_budget(0);
    assert_int_equal(status, 0);
    r = pf_test_read_results(out, "mnist");
    assert_true(pf_test_number(r, "epochs") == 3);
    pf_test_series_n(r, "train_loss", values, 3);
    assert_false(pf_test_notes_contain(r, "Stopped"));
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "numbers"), "budget_seconds"));
    cJSON_Delete(r);
}

int main(void)
{
    if (!pf_test_make_temp_dir(out_dir, sizeof out_dir, "lecture_page"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_page, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_mnist_quick, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_mnist_budget, pf_test_setup, pf_test_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pf_test_remove_dir(out_dir);
    return failed;
}
