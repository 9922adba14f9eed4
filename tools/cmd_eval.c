/*
 * cmd_eval.c — `profond eval`: the test error of saved weights.
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli.h"

int cmd_eval(int argc, char **argv)
{
    const char *weights = NULL, *model_spec = "lecture-cnn", *data = "mnist";
    int64_t threads = 0;
    bool json = false;
    const cli_option options[] = {
        {"weights", OPT_STRING, &weights, "FILE", "the weights (safetensors), required"},
        {"model", OPT_STRING, &model_spec, "SPEC", "the model they belong to (default lecture-cnn)"},
        {"data", OPT_STRING, &data, "NAME|DIR", "mnist (default), fashion-mnist, or a folder of IDX files"},
        {"threads", OPT_INT, &threads, "N", "threads (default: $PF_THREADS or all cores)"},
        {"json", OPT_FLAG, &json, NULL, "print {\"test_error\": ..., \"examples\": ...}"},
        {0},
    };
    const cli_command cmd = {"eval", "--weights FILE [OPTIONS]", "Prints the test error of saved weights.",
                             options, 0};
    const char *positional[1];
    int n;
    int parsed = cli_parse(&cmd, argc, argv, positional, &n);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (!weights) {
        fprintf(stderr, "profond eval: --weights FILE is required\n");
        return 2;
    }
    /* A negative count was ignored, and a huge one crashed OpenMP. */
    if (threads < 0 || threads > CLI_MAX_THREADS) {
        fprintf(stderr, "profond eval: --threads must be between 0 (all cores) and %d\n", CLI_MAX_THREADS);
        return 2;
    }
    if (threads > 0)
        pf_set_num_threads((int)threads);
    pf_ctx *ctx = pf_ctx_new(0);
    pf_dataset test;
    pf_module *model = pf_model_from_spec(ctx, model_spec);
    int status = 1;
    if (!model || !pf_module_load(model, weights) || !pf_dataset_load(ctx, data, false, &test)) {
        cli_fail("eval", NULL);
        goto done;
    }
    double error = evaluate_error(model, &test, 1000);
    if (error < 0) {
        cli_fail("eval", NULL);
        goto done;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "test_error", error);
        cJSON_AddNumberToObject(o, "examples", (double)test.count);
        char *text = cJSON_PrintUnformatted(o);
        if (text)
            printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        printf("test error %.2f%% (%lld images of %s)\n", 100 * error, (long long)test.count, test.name);
    }
    status = 0;
done:
    pf_ctx_free(ctx);
    return status;
}
