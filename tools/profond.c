/*
 * profond.c — the `profond` command: dispatches to its subcommands.
 *
 *   profond train    train a model on MNIST-style data
 *   profond eval     test error of saved weights
 *   profond predict  run saved weights on a tensor file
 *   profond info     list the tensors of a safetensors file
 *   profond classify classify an image with a pretrained AlexNet (the lecture's slide)
 *   profond lecture  run the lecture's experiments, write figures and a page
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"train", cmd_train, "train a model (the lecture's CNN on MNIST by default)"},
    {"eval", cmd_eval, "test error of a model's saved weights"},
    {"predict", cmd_predict, "run a model on the tensor 'input' of a safetensors file"},
    {"info", cmd_info, "list the tensors, shapes and dtypes of a safetensors or .pth file"},
    {"classify", cmd_classify, "classify an image with a pretrained AlexNet (the lecture's slide)"},
    {"lecture", cmd_lecture, "run the lecture's experiments and write their figures (profond lecture --list)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: profond COMMAND [OPTIONS]   (profond COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "  %-9s %s\n", "version", "print the version");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("profond %s\n", PF_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        if (strcmp(name, subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    /* One line, as every other error (the list of commands is in --help). */
    fprintf(stderr, "profond: unknown command '%s' (see profond --help)\n", name);
    return 2;
}
