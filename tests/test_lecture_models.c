/*
 * test_lecture_models.c — the lecture experiments separable, xor, approx and
 * descent (examples/lecture/), run at quick sizes into a temporary folder;
 * each test reads the experiment's results.json and checks the slide's claim:
 *
 *   separable  the perceptron classifies the separable populations 100%
 *              correctly, the cloud inside a ring far worse (< 80%: no line
 *              can do better than about 2/3 there);
 *   xor        a linear perceptron stays at most 80% right on the four
 *              corners, the one on Φ(x) = (x_u, x_v, x_u x_v) is 100% right;
 *   approx     the error of x ↦ ω·tanh(wx + b) falls with every doubling of
 *              K = 1 .. 32, and by more than 100 times in all;
 *   descent    with η = 0.125 the loss falls at every step, to below 1/1000
 *              of the start; with η = 0.5 it ends above the start, and w
 *              jumps across the valley (a coordinate changes sign at almost
 *              every step);
 * and that every figure an experiment registers is a PNG image.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture.h"
#include "lecture_testing.h"
#include "testing.h"

static char out_dir[256];

/* Runs experiment `name` (quick) and returns its parsed results.json; checks
 * that it registered `figures` figures and that each is a PNG image. */
static cJSON *run(const char *name, int figures)
{
    const lecture_experiment *e = lecture_find(name);
    assert_non_null(e);
    assert_int_equal(lecture_run_experiment(e, out_dir, true, 0, NULL, 0), 0);

    cJSON *results = pf_test_read_results(out_dir, name);

    const cJSON *list = cJSON_GetObjectItem(results, "figures"), *fig;
    assert_int_equal(cJSON_GetArraySize(list), figures);
    cJSON_ArrayForEach(fig, list) {
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(fig, "file"));
        assert_non_null(file);
        assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(fig, "caption")));
        char path[512];
        snprintf(path, sizeof path, "%s/%s/%s", out_dir, name, file);
        pf_test_assert_png_header(path, 0, 0, 100);
    }
    return results;
}

static void test_separable(void **state)
{
    (void)state;
    cJSON *r = run("separable", 1);
    double separable = pf_test_number(r, "accuracy_separable"), ring = pf_test_number(r, "accuracy_not_separable");
    if (separable != 1)
        fail_msg("training accuracy on the separable populations: %g, expected 1", separable);
    if (!(ring < 0.8))
        fail_msg("training accuracy on the cloud inside a ring: %g, expected < 0.8", ring);
    assert_true(ring >= 0.4); /* the perceptron was trained: no worse than chance */
    cJSON_Delete(r);
}

static void test_xor(void **state)
{
    (void)state;
    cJSON *r = run("xor", 1);
    double linear = pf_test_number(r, "accuracy_linear"), phi = pf_test_number(r, "accuracy_phi");
    if (!(linear <= 0.8))
        fail_msg("linear perceptron on XOR: accuracy %g, expected <= 0.8", linear);
    if (phi != 1)
        fail_msg("perceptron on Phi(x): accuracy %g, expected 1", phi);
    cJSON_Delete(r);
}

static void test_approx(void **state)
{
    (void)state;
    cJSON *r = run("approx", 1);
    double widths[6], mse[6];
    pf_test_series_n(r, "widths", widths, 6);
    pf_test_series_n(r, "mse", mse, 6);
    for (int i = 0; i < 6; i++)
        assert_true(widths[i] == (double)(1 << i));
    for (int i = 0; i + 1 < 6; i++)
        if (!(mse[i + 1] < mse[i]))
            fail_msg("error with K = %g (%g) is not below that with K = %g (%g)", widths[i + 1], mse[i + 1],
                     widths[i], mse[i]);
    if (!(mse[5] < mse[0] / 100))
        fail_msg("error with K = 32 (%g) is not 100 times below that with K = 1 (%g)", mse[5], mse[0]);
    assert_true(mse[5] > 0);
    cJSON_Delete(r);
}

#define DESCENT_STEPS 40

static void test_descent(void **state)
{
    (void)state;
    cJSON *r = run("descent", 1);
    double start = pf_test_number(r, "loss_start");
    double slow[DESCENT_STEPS + 1], fast[DESCENT_STEPS + 1], u[DESCENT_STEPS + 1], v[DESCENT_STEPS + 1];
    pf_test_series_n(r, "loss_eta_0_125", slow, DESCENT_STEPS + 1);
    pf_test_series_n(r, "loss_eta_0_5", fast, DESCENT_STEPS + 1);
    pf_test_series_n(r, "u_eta_0_5", u, DESCENT_STEPS + 1);
    pf_test_series_n(r, "v_eta_0_5", v, DESCENT_STEPS + 1);
    assert_true(start > 1);
    assert_true(slow[0] == start && fast[0] == start);
    assert_true(pf_test_number(r, "final_loss_eta_0_125") == slow[DESCENT_STEPS]);
    assert_true(pf_test_number(r, "final_loss_eta_0_5") == fast[DESCENT_STEPS]);

    /* η = 0.125: the loss falls at every step, to almost nothing. */
    for (int t = 0; t < DESCENT_STEPS; t++)
        if (!(slow[t + 1] < slow[t]))
            fail_msg("eta = 0.125: the loss rose at step %d (%g -> %g)", t + 1, slow[t], slow[t + 1]);
    if (!(slow[DESCENT_STEPS] < 1e-3 * start))
        fail_msg("eta = 0.125: final loss %g, expected below %g", slow[DESCENT_STEPS], 1e-3 * start);

    /* η = 0.5: it ends above where it started, jumping across the valley. */
    if (!(fast[DESCENT_STEPS] > start))
        fail_msg("eta = 0.5: final loss %g is not above the start %g", fast[DESCENT_STEPS], start);
    int flips = 0;
    for (int t = 0; t < DESCENT_STEPS; t++)
        flips += (u[t] < 0) != (u[t + 1] < 0) || (v[t] < 0) != (v[t + 1] < 0);
    if (flips < DESCENT_STEPS * 3 / 4)
        fail_msg("eta = 0.5: w changed sign at %d of %d steps, expected an oscillation", flips, DESCENT_STEPS);
    cJSON_Delete(r);
}

int main(void)
{
    if (!pf_test_make_temp_dir(out_dir, sizeof out_dir, "lecture_models"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_separable, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_xor, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_approx, pf_test_setup, pf_test_teardown),
        cmocka_unit_test_setup_teardown(test_descent, pf_test_setup, pf_test_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pf_test_remove_dir(out_dir);
    return failed;
}
