/*
 * test_allocations.c — the steady state of a training loop allocates
 * nothing: after a few warm-up steps, steps of the lecture CNN (loader,
 * forward, loss, backward, optimizer step, context reset) make no call to
 * malloc, calloc, realloc or aligned_alloc.
 *
 * The test program is linked with --wrap for those functions (see
 * tests/CMakeLists.txt), so every call the library makes from its static
 * archive goes through the counters below.
 */
#include <stdlib.h>

#include "testing.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);

static long allocations;

void *__wrap_malloc(size_t size)
{
    allocations++;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    allocations++;
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    allocations++;
    return __real_realloc(p, size);
}

void *__wrap_aligned_alloc(size_t alignment, size_t size)
{
    allocations++;
    return __real_aligned_alloc(alignment, size);
}

/* One training step of the lecture's loop; false on error. */
static bool step(pf_ctx *ctx, pf_module *model, pf_optim *opt, pf_loader *loader)
{
    pf_tensor *x, *y;
    if (!pf_loader_next(loader, ctx, &x, &y))
        return false;
    pf_tensor *loss = pf_cross_entropy(ctx, pf_forward(ctx, model, x), y, PF_REDUCTION_MEAN);
    pf_optim_zero_grad(opt);
    bool ok = pf_backward(loss) && pf_optim_step(opt);
    pf_ctx_reset(ctx);
    return ok;
}

static void test_training_steps_allocate_nothing(void **state)
{
    (void)state;
    pf_ctx *data = pf_ctx_new(0), *params = pf_ctx_new(0), *ctx = pf_ctx_new(0);
    pf_dataset train;
    PF_CHECK(pf_dataset_load(data, PF_SHARED_DATA_DIR "/mnist", true, &train));
    pf_module *model = pf_model_from_spec(params, "lecture-cnn");
    int n;
    pf_tensor **weights = pf_module_parameter_array(model, &n);
    pf_optim *opt = pf_optim_sgd(params, n, weights, (pf_sgd_opts){.lr = 0.01, .momentum = 0.9});
    pf_loader *loader = pf_loader_new(data, &train, (pf_loader_opts){.batch_size = 100, .shuffle = true});
    PF_CHECK(opt && loader);

    for (int i = 0; i < 3; i++) /* warm-up: contexts, scratch and optimizer state grow */
        PF_CHECK(step(ctx, model, opt, loader));
    long before = allocations;
    for (int i = 0; i < 5; i++)
        PF_CHECK(step(ctx, model, opt, loader));
    long during = allocations - before;
    if (during != 0)
        print_error("%ld allocations during 5 steady-state steps\n", during);
    assert_int_equal(during, 0);
    /* The counters do see the library's allocations. */
    before = allocations;
    pf_ctx *probe = pf_ctx_new(0);
    assert_true(allocations > before);
    pf_ctx_free(probe);

    pf_ctx_free(ctx);
    pf_ctx_free(params);
    pf_ctx_free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training_steps_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
