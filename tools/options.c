/*
 * options.c — the option parser of the `profond` command: every subcommand
 * describes its options in a table, and gets --help and error messages for
 * free.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_print_help(const cli_command *cmd)
{
    printf("usage: profond %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->options[0].name)
        printf("\noptions:\n");
    for (const cli_option *o = cmd->options; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        printf("  %-22s %s\n", left, o->help);
    }
    printf("  %-22s %s\n", "--help", "show this help");
}

int cli_fail(const char *cmd, const char *msg)
{
    const char *err = msg ? msg : pf_error();
    fprintf(stderr, "profond %s: %s\n", cmd, err ? err : "failed");
    return 1;
}

static bool parse_value(const cli_command *cmd, const cli_option *o, const char *text)
{
    char *end;
    errno = 0;
    switch (o->type) {
    case OPT_INT: {
        long long v = strtoll(text, &end, 10);
        if (*text == '\0' || *end != '\0' || errno) {
            fprintf(stderr, "profond %s: --%s expects an integer, got '%s'\n", cmd->name, o->name, text);
            return false;
        }
        *(int64_t *)o->target = v;
        return true;
    }
    case OPT_DOUBLE: {
        double v = strtod(text, &end);
        if (*text == '\0' || *end != '\0' || errno || !isfinite(v)) {
            fprintf(stderr, "profond %s: --%s expects a number, got '%s'\n", cmd->name, o->name, text);
            return false;
        }
        *(double *)o->target = v;
        return true;
    }
    case OPT_STRING:
        *(const char **)o->target = text;
        return true;
    case OPT_FLAG:
        break;
    }
    return false;
}

int cli_parse(const cli_command *cmd, int argc, char **argv, const char **positional, int *n_positional)
{
    *n_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            cli_print_help(cmd);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (*n_positional == cmd->max_positional) {
                fprintf(stderr, "profond %s: unexpected argument '%s' (see profond %s --help)\n", cmd->name, arg,
                        cmd->name);
                return -1;
            }
            positional[(*n_positional)++] = arg;
            continue;
        }
        /* --name value, or --name=value */
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_option *o = cmd->options;
        while (o->name && !(strlen(o->name) == len && strncmp(o->name, name, len) == 0))
            o++;
        if (!o->name) {
            fprintf(stderr, "profond %s: unknown option '%.*s' (see profond %s --help)\n", cmd->name, (int)len + 2,
                    arg, cmd->name);
            return -1;
        }
        if (o->type == OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "profond %s: --%s takes no value\n", cmd->name, o->name);
                return -1;
            }
            *(bool *)o->target = true;
            continue;
        }
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value) {
            fprintf(stderr, "profond %s: --%s needs a value (%s)\n", cmd->name, o->name, o->metavar);
            return -1;
        }
        if (!parse_value(cmd, o, value))
            return -1;
    }
    return 0;
}
