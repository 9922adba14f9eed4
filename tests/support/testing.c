/*
 * testing.c — the helpers declared in testing.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

void pf_test_check(bool cond, const char *what, const char *file, int line)
{
    if (!cond) {
        const char *err = pf_error();
        print_error("%s:%d: check failed: %s\n  pf_error: %s\n", file, line, what, err ? err : "(none)");
        _fail(file, line);
    }
}

void pf_test_assert_shape(const pf_tensor *t, int ndim, const int64_t *shape, const char *file, int line)
{
    pf_test_check(t != NULL, "tensor is not NULL", file, line);
    bool same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[128];
        pf_shape_str(t, got, sizeof got);
        print_error("%s:%d: shape %s, expected %d dims:", file, line, got, ndim);
        for (int i = 0; i < ndim; i++)
            print_error(" %lld", (long long)shape[i]);
        print_error("\n");
        _fail(file, line);
    }
}

void pf_test_assert_values(const pf_tensor *t, const double *expected, int64_t n, double tol, const char *file,
                           int line)
{
    pf_test_check(t != NULL, "tensor is not NULL", file, line);
    if (pf_numel(t) != n) {
        print_error("%s:%d: %lld elements, expected %lld\n", file, line, (long long)pf_numel(t), (long long)n);
        _fail(file, line);
    }
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    pf_copy_to_f64(t, v);
    for (int64_t i = 0; i < n; i++) {
        bool ok = fabs(v[i] - expected[i]) <= tol || (isnan(v[i]) && isnan(expected[i])) ||
                  (isinf(v[i]) && v[i] == expected[i]);
        if (!ok) {
            print_error("%s:%d: element %lld is %.9g, expected %.9g\n", file, line, (long long)i, v[i],
                        expected[i]);
            free(v);
            _fail(file, line);
        }
    }
    free(v);
}

void pf_test_assert_close(const pf_tensor *actual, const pf_tensor *expected, double rtol, double atol,
                          const char *file, int line)
{
    pf_test_check(actual != NULL, "actual is not NULL", file, line);
    pf_test_check(expected != NULL, "expected is not NULL", file, line);
    if (!pf_same_shape(actual, expected)) {
        char a[128], e[128];
        print_error("%s:%d: shape %s, expected %s\n", file, line, pf_shape_str(actual, a, sizeof a),
                    pf_shape_str(expected, e, sizeof e));
        _fail(file, line);
    }
    int64_t n = pf_numel(actual);
    double *a = malloc(sizeof(double) * (size_t)(n ? n : 1));
    double *e = malloc(sizeof(double) * (size_t)(n ? n : 1));
    pf_copy_to_f64(actual, a);
    pf_copy_to_f64(expected, e);
    double scale = 0, worst = 0;
    int64_t worst_at = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(e[i]) > scale)
            scale = fabs(e[i]);
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(a[i] - e[i]);
        if (isnan(a[i]) != isnan(e[i]))
            d = INFINITY;
        if (d > worst) {
            worst = d;
            worst_at = i;
        }
    }
    if (worst > atol + rtol * scale) {
        print_error("%s:%d: element %lld is %.9g, expected %.9g (max |diff| %.3g > %.3g)\n", file, line,
                    (long long)worst_at, a[worst_at], e[worst_at], worst, atol + rtol * scale);
        free(a);
        free(e);
        _fail(file, line);
    }
    free(a);
    free(e);
}

void pf_test_assert_error(const char *needle, const char *file, int line)
{
    const char *err = pf_error();
    if (!err || !strstr(err, needle)) {
        print_error("%s:%d: expected an error containing \"%s\", got %s\n", file, line, needle,
                    err ? err : "no error");
        _fail(file, line);
    }
    pf_error_clear();
}

pf_tensor *pf_test_rand64(pf_ctx *ctx, uint64_t seed, double low, double high, int ndim, const int64_t *shape)
{
    pf_tensor *t = pf_empty(ctx, PF_F64, ndim, shape);
    if (!t)
        return NULL;
    pf_rng rng;
    pf_rng_seed(&rng, seed);
    double *p = pf_data_f64(t);
    for (int64_t i = 0; i < pf_numel(t); i++)
        p[i] = low + (high - low) * pf_rng_uniform(&rng);
    return pf_requires_grad(t, true);
}

/* L = sum(fn(inputs) * W). */
static double weighted_output(pf_ctx *ctx, pf_test_fn fn, const void *arg, pf_tensor *const *inputs,
                              pf_tensor **weights, pf_tensor **out_loss)
{
    pf_tensor *out = fn(ctx, inputs, arg);
    if (!out)
        return NAN;
    if (!*weights) {
        pf_rng rng;
        pf_rng_seed(&rng, 1234);
        pf_tensor *w = pf_empty(ctx, PF_F64, out->ndim, out->shape);
        double *p = pf_data_f64(w);
        for (int64_t i = 0; i < pf_numel(w); i++)
            p[i] = 0.5 + pf_rng_uniform(&rng);
        *weights = w;
    }
    pf_tensor *loss = pf_sum(ctx, pf_mul(ctx, pf_to_dtype(ctx, out, PF_F64), *weights));
    if (out_loss)
        *out_loss = loss;
    return loss ? pf_item(loss) : NAN;
}

void pf_test_gradcheck(pf_test_fn fn, const void *arg, pf_tensor *const *inputs, int n, unsigned skip_mask,
                       const char *file, int line)
{
    for (int i = 0; i < n; i++)
        pf_test_check(inputs[i] != NULL, "gradcheck input is not NULL", file, line);
    pf_ctx *ctx = pf_ctx_new(0);
    pf_tensor *weights = NULL, *loss = NULL;
    weighted_output(ctx, fn, arg, inputs, &weights, &loss);
    pf_test_check(loss != NULL, "gradcheck: the function ran", file, line);
    pf_tensor *grads[16] = {0};
    pf_tensor *wanted[16];
    int nwanted = 0;
    for (int i = 0; i < n; i++)
        if (!(skip_mask & (1u << i)) && inputs[i]->requires_grad)
            wanted[nwanted++] = inputs[i];
    pf_test_check(pf_grad(ctx, loss, nwanted, wanted, grads), "gradcheck: pf_grad", file, line);

    const double eps = 1e-6;
    pf_ctx *scratch = pf_ctx_new(0);
    bool was = pf_set_grad_enabled(false);
    for (int k = 0; k < nwanted; k++) {
        pf_tensor *x = wanted[k];
        pf_test_check(x->dtype == PF_F64 && pf_is_contiguous(x), "gradcheck input is contiguous float64", file,
                      line);
        double *p = pf_data_f64(x);
        int64_t count = pf_numel(x);
        double *analytic = malloc(sizeof(double) * (size_t)(count ? count : 1));
        pf_copy_to_f64(grads[k], analytic);
        for (int64_t i = 0; i < count; i++) {
            double keep = p[i];
            p[i] = keep + eps;
            double up = weighted_output(scratch, fn, arg, inputs, &weights, NULL);
            pf_ctx_reset(scratch);
            p[i] = keep - eps;
            double down = weighted_output(scratch, fn, arg, inputs, &weights, NULL);
            pf_ctx_reset(scratch);
            p[i] = keep;
            double numeric = (up - down) / (2 * eps);
            if (!(fabs(analytic[i] - numeric) <= 1e-6 + 1e-4 * fabs(numeric))) {
                print_error("%s:%d: gradcheck: input %d element %lld: analytic %.9g, numeric %.9g\n", file, line,
                            k, (long long)i, analytic[i], numeric);
                free(analytic);
                pf_set_grad_enabled(was);
                _fail(file, line);
            }
        }
        free(analytic);
    }
    pf_set_grad_enabled(was);
    pf_ctx_free(scratch);
    pf_ctx_free(ctx);
}

const char *pf_test_path(const char *relative)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", PF_TEST_DIR, relative);
    return path;
}

pf_golden pf_golden_load(pf_ctx *ctx, const char *name)
{
    char rel[512];
    snprintf(rel, sizeof rel, "golden/%s.safetensors", name);
    pf_golden g = {NULL, 0, name};
    g.count = pf_safetensors_load(ctx, pf_test_path(rel), &g.tensors);
    pf_test_check(g.count >= 0, "golden file loads", __FILE__, __LINE__);
    return g;
}

pf_tensor *pf_golden_get(const pf_golden *g, const char *tensor)
{
    pf_tensor *t = pf_named_find(g->tensors, g->count, tensor);
    if (!t) {
        print_error("golden file %s has no tensor \"%s\"\n", g->name, tensor);
        fail();
    }
    return t;
}

int pf_test_setup(void **state)
{
    pf_error_clear();
    *state = pf_ctx_new(0);
    return *state ? 0 : -1;
}

int pf_test_teardown(void **state)
{
    pf_ctx_free(*state);
    if (pf_error()) {
        print_error("test left an error recorded: %s\n", pf_error());
        pf_error_clear();
        return -1;
    }
    return 0;
}

char *pf_test_read_text(const char *path, long *size_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(text);
        text = NULL;
    }
    if (text)
        text[size] = '\0';
    fclose(f);
    if (size_out)
        *size_out = size;
    return text;
}
