/*
 * main.c — a standalone program for one experiment of the lecture:
 * build/examples/lecture_NAME [--out DIR] [--quick] [--retrain]. The
 * experiment's name comes from the build (LECTURE_EXPERIMENT); `profond
 * lecture NAME` runs the same function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lecture.h"

int main(int argc, char **argv)
{
    const char *out = "lecture-out";
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--retrain") == 0) {
            lecture_set_retrain(true);
        } else {
            fprintf(stderr, "usage: %s [--out DIR] [--quick] [--retrain]\n", argv[0]);
            return 2;
        }
    }
    const lecture_experiment *e = lecture_find(LECTURE_EXPERIMENT);
    if (!e) {
        fprintf(stderr, "%s: unknown experiment %s\n", argv[0], LECTURE_EXPERIMENT);
        return 2;
    }
    return lecture_run_experiment(e, out, quick, 0, "mnist", 0);
}
