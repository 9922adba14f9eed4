/*
 * cmd_predict.c — `profond predict`: runs a model with saved weights on the
 * tensor named "input" of a safetensors file and writes the raw outputs as
 * the tensor "output".
 */
#include <stdio.h>

#include "cli.h"

int cmd_predict(int argc, char **argv)
{
    const char *weights = NULL, *model_spec = "lecture-cnn", *input = NULL, *output = NULL;
    int64_t threads = 0;
    const cli_option options[] = {
        {"weights", OPT_STRING, &weights, "FILE", "the weights (safetensors), required"},
        {"model", OPT_STRING, &model_spec, "SPEC", "the model they belong to (default lecture-cnn)"},
        {"input", OPT_STRING, &input, "FILE", "safetensors file with a float32 tensor 'input', required"},
        {"output", OPT_STRING, &output, "FILE", "where to write the tensor 'output', required"},
        {"threads", OPT_INT, &threads, "N", "threads (default: $PF_THREADS or all cores)"},
        {0},
    };
    const cli_command cmd = {"predict", "--weights FILE --input X.safetensors --output Y.safetensors [OPTIONS]",
                             "Runs the model (in evaluation mode) on the tensor 'input' and writes 'output'.",
                             options, 0};
    const char *positional[1];
    int n;
    int parsed = cli_parse(&cmd, argc, argv, positional, &n);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (!weights || !input || !output) {
        fprintf(stderr, "profond predict: --weights, --input and --output are required\n");
        return 2;
    }
    /* A negative count was ignored, and a huge one crashed OpenMP. */
    if (threads < 0 || threads > CLI_MAX_THREADS) {
        fprintf(stderr, "profond predict: --threads must be between 0 (all cores) and %d\n", CLI_MAX_THREADS);
        return 2;
    }
    if (threads > 0)
        pf_set_num_threads((int)threads);
    pf_ctx *ctx = pf_ctx_new(0);
    pf_named_tensor *tensors;
    int count;
    int status = 1;
    pf_module *model = pf_model_from_spec(ctx, model_spec);
    if (!model || !pf_module_load(model, weights) || (count = pf_safetensors_load(ctx, input, &tensors)) < 0) {
        cli_fail("predict", NULL);
        goto done;
    }
    pf_tensor *x = pf_named_find(tensors, count, "input");
    if (!x) {
        fprintf(stderr, "profond predict: %s has no tensor named 'input'\n", input);
        goto done;
    }
    if (x->dtype != PF_F32) {
        fprintf(stderr, "profond predict: 'input' in %s is %s; float32 is expected\n", input,
                pf_dtype_name(x->dtype));
        goto done;
    }
    pf_set_grad_enabled(false);
    pf_module_train(model, false);
    pf_tensor *y = pf_forward(ctx, model, x);
    if (!y || !pf_safetensors_save(output, 1, &(pf_named_tensor){"output", y})) {
        cli_fail("predict", NULL);
        goto done;
    }
    status = 0;
done:
    pf_ctx_free(ctx);
    return status;
}
