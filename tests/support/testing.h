/*
 * testing.h — what every test program shares: cmocka, tensor comparisons,
 * the finite-difference gradient check, and access to golden files.
 *
 * Tolerances:
 * - golden comparisons (against PyTorch): relative error in the max norm,
 *   max|actual - expected| / max(max|expected|, 1e-30) <= 1e-5;
 * - gradient checks run in float64 with central differences.
 */
#ifndef PF_TESTING_H
#define PF_TESTING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "profond.h"

/* Fails the test, printing pf_error(), when cond is false. */
#define PF_CHECK(cond) pf_test_check((cond), #cond, __FILE__, __LINE__)
void pf_test_check(bool cond, const char *what, const char *file, int line);

/* Fails unless actual has the given shape. */
#define PF_ASSERT_SHAPE(t, ...) \
    pf_test_assert_shape((t), PF_DIMS(__VA_ARGS__), __FILE__, __LINE__)
void pf_test_assert_shape(const pf_tensor *t, int ndim, const int64_t *shape, const char *file, int line);

/* Fails unless the n values of t (row-major, any dtype) are within tol of
 * expected (absolute). */
#define PF_ASSERT_VALUES(t, tol, ...)                                                        \
    pf_test_assert_values((t), (const double[]){__VA_ARGS__},                                \
                          (int64_t)(sizeof((const double[]){__VA_ARGS__}) / sizeof(double)), \
                          (tol), __FILE__, __LINE__)
void pf_test_assert_values(const pf_tensor *t, const double *expected, int64_t n, double tol, const char *file,
                           int line);

/* Fails unless same shape and max|a-e| <= atol + rtol * max|e|. */
#define PF_ASSERT_CLOSE(actual, expected, rtol, atol) \
    pf_test_assert_close((actual), (expected), (rtol), (atol), __FILE__, __LINE__)
void pf_test_assert_close(const pf_tensor *actual, const pf_tensor *expected, double rtol, double atol,
                          const char *file, int line);

/* Fails unless an error is recorded whose message contains `needle`; then
 * clears it. */
#define PF_ASSERT_ERROR(needle) pf_test_assert_error((needle), __FILE__, __LINE__)
void pf_test_assert_error(const char *needle, const char *file, int line);

/* ---- Gradient check -------------------------------------------------------
 * fn builds an output from inputs (float64 leaves requiring grad). The check
 * reduces the output to L = sum(output * W) with fixed random weights W, takes
 * the analytic gradient dL/dinput by pf_grad, and compares each element with
 * the central difference (L(x+eps) - L(x-eps)) / 2eps, eps = 1e-6:
 * |analytic - numeric| <= 1e-6 + 1e-4 * |numeric|.
 * Inputs whose index is set in `skip_mask` (bit i) are not checked. */
typedef pf_tensor *(*pf_test_fn)(pf_ctx *ctx, pf_tensor *const *inputs, const void *arg);
#define PF_GRADCHECK(fn, arg, ...) \
    pf_test_gradcheck((fn), (arg), (pf_tensor *[]){__VA_ARGS__}, \
                      (int)(sizeof((pf_tensor *[]){__VA_ARGS__}) / sizeof(pf_tensor *)), 0, __FILE__, __LINE__)
void pf_test_gradcheck(pf_test_fn fn, const void *arg, pf_tensor *const *inputs, int n, unsigned skip_mask,
                       const char *file, int line);

/* A float64 leaf requiring grad with values uniform in [low, high), from a
 * generator seeded with `seed`. */
pf_tensor *pf_test_rand64(pf_ctx *ctx, uint64_t seed, double low, double high, int ndim, const int64_t *shape);

/* ---- Golden files ---------------------------------------------------------
 * tests/golden/NAME.safetensors, written by tests/golden/generate.py. */
typedef struct pf_golden {
    pf_named_tensor *tensors;
    int count;
    const char *name;
} pf_golden;

/* Loads a golden file into ctx (fails the test if it is missing). */
pf_golden pf_golden_load(pf_ctx *ctx, const char *name);
/* A tensor of a golden file (fails the test if absent). */
pf_tensor *pf_golden_get(const pf_golden *g, const char *tensor);
/* Compares with the golden tolerance (relative 1e-5 in the max norm). */
#define PF_ASSERT_GOLDEN(actual, expected) pf_test_assert_close((actual), (expected), 1e-5, 0, __FILE__, __LINE__)

/* The path of a file under tests/ (static buffer). */
const char *pf_test_path(const char *relative);

/* The whole file as a NUL-terminated string (free it), NULL if it cannot
 * be read; its size into *size when size is not NULL. */
char *pf_test_read_text(const char *path, long *size);

/* cmocka's group setup/teardown: a context for each test in `*state`. */
int pf_test_setup(void **state);
int pf_test_teardown(void **state);

#endif
