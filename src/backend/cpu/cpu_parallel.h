/*
 * cpu_parallel.h — PF_PARALLEL_FOR, the loop over the OpenMP threads that
 * opens no region when the work is too small to share.
 */
#ifndef PF_CPU_PARALLEL_H
#define PF_CPU_PARALLEL_H

#include <stdint.h>

#include <omp.h>

/* for (int64_t i = 0; i < n; i++) { ... }: over the OpenMP threads (a
 * static schedule) where `parallel` holds and no region is active yet,
 * else on the calling thread without opening a region. A region of one
 * thread (an if clause that is false, or a region nested in another) still
 * makes the OpenMP runtime set up a team, and alternating with full teams
 * makes libgomp allocate a new team each time: 3% of a one-image forward
 * went to malloc so. The body may not `return`. */
#define PF_PARALLEL_FOR(parallel, i, n, ...)                                      \
    do {                                                                          \
        int64_t pf_for_count_ = (n);                                              \
        if ((parallel) && omp_get_level() == 0) {                                 \
            _Pragma("omp parallel for schedule(static)")                          \
            for (int64_t i = 0; i < pf_for_count_; i++) __VA_ARGS__               \
        } else {                                                                  \
            for (int64_t i = 0; i < pf_for_count_; i++) __VA_ARGS__               \
        }                                                                         \
    } while (0)

#endif
