/*
 * profile.c — where the time goes: when profiling is on, the library adds
 * the wall time of each module's forward, of each op's backward and of each
 * optimizer step to a counter named after it (programs may add their own,
 * e.g. data loading); pf_profile_fprint prints the table. Off by default:
 * then each instrumented call costs one flag test.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/tensor_internal.h"

#define MAX_ENTRIES 128

typedef struct profile_entry {
    const char *name;
    pf_profile_phase phase;
    int64_t calls;
    double seconds;
} profile_entry;

static bool enabled;
static profile_entry entries[MAX_ENTRIES];
static int n_entries;

void pf_profile_enable(bool on) { enabled = on; }
bool pf_profile_enabled(void) { return enabled; }
void pf_profile_reset(void) { n_entries = 0; }

double pf_profile_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void pf_profile_add(const char *name, pf_profile_phase phase, double seconds)
{
    if (!enabled || !name)
        return;
    for (int i = 0; i < n_entries; i++)
        if (entries[i].phase == phase && strcmp(entries[i].name, name) == 0) {
            entries[i].calls++;
            entries[i].seconds += seconds;
            return;
        }
    if (n_entries < MAX_ENTRIES)
        entries[n_entries++] = (profile_entry){name, phase, 1, seconds};
}

static int by_time(const void *a, const void *b)
{
    double x = ((const profile_entry *)a)->seconds, y = ((const profile_entry *)b)->seconds;
    return x < y ? 1 : (x > y ? -1 : 0);
}

void pf_profile_fprint(FILE *f)
{
    static const char *phases[] = {"forward", "backward", "other"};
    profile_entry sorted[MAX_ENTRIES];
    memcpy(sorted, entries, sizeof(profile_entry) * (size_t)n_entries);
    qsort(sorted, (size_t)n_entries, sizeof *sorted, by_time);
    double total = 0;
    for (int i = 0; i < n_entries; i++)
        total += sorted[i].seconds;
    fprintf(f, "%-28s %-9s %10s %12s %7s\n", "what", "phase", "calls", "seconds", "share");
    for (int i = 0; i < n_entries; i++)
        fprintf(f, "%-28s %-9s %10lld %12.3f %6.1f%%\n", sorted[i].name, phases[sorted[i].phase],
                (long long)sorted[i].calls, sorted[i].seconds, total > 0 ? 100 * sorted[i].seconds / total : 0);
    fprintf(f, "%-28s %-9s %10s %12.3f\n", "total", "", "", total);
}
