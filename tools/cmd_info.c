/*
 * cmd_info.c — `profond info FILE`: the tensors of a safetensors file, their
 * dtypes and shapes, and the total number of elements.
 */
#include <stdio.h>

#include "cli.h"

int cmd_info(int argc, char **argv)
{
    const cli_option options[] = {{0}};
    const cli_command cmd = {"info", "FILE", "Lists the tensors of a safetensors or PyTorch .pth file.", options, 1};
    const char *positional[1];
    int n;
    int parsed = cli_parse(&cmd, argc, argv, positional, &n);
    if (parsed)
        return parsed > 0 ? 0 : 2;
    if (n != 1) {
        fprintf(stderr, "profond info: give one file (see profond info --help)\n");
        return 2;
    }
    pf_ctx *ctx = pf_ctx_new(0);
    pf_named_tensor *tensors;
    int count = pf_weights_load(ctx, positional[0], &tensors);
    if (count < 0) {
        cli_fail("info", NULL);
        pf_ctx_free(ctx);
        return 1;
    }
    int64_t total = 0;
    for (int i = 0; i < count; i++) {
        char shape[128];
        printf("%-40s %-8s %s\n", tensors[i].name, pf_dtype_name(tensors[i].tensor->dtype),
               pf_shape_str(tensors[i].tensor, shape, sizeof shape));
        total += pf_numel(tensors[i].tensor);
    }
    printf("%d tensors, %lld elements\n", count, (long long)total);
    pf_ctx_free(ctx);
    return 0;
}
