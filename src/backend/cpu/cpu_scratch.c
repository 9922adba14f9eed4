/*
 * cpu_scratch.c — scratch memory for the CPU kernels (im2col columns,
 * partial sums): a few buffers per OpenMP thread, each grown when a call
 * needs more than any call before and kept for the next call. After the
 * first training step the kernels therefore allocate nothing.
 */
#include <omp.h>
#include <stdlib.h>

#include "backend/cpu/cpu_backend.h"

#define MAX_THREADS 256

typedef struct scratch_buffer {
    void *data;
    size_t size;
} scratch_buffer;

static scratch_buffer buffers[MAX_THREADS][PF_CPU_SCRATCH_SLOTS];

void *pf_cpu_scratch(int slot, size_t bytes)
{
    int thread = omp_get_thread_num();
    if (thread >= MAX_THREADS || slot < 0 || slot >= PF_CPU_SCRATCH_SLOTS)
        return pf_fail("cpu scratch: thread %d or slot %d out of range", thread, slot);
    scratch_buffer *b = &buffers[thread][slot];
    if (b->size < bytes) {
        size_t size = (bytes + 63) & ~(size_t)63;
        void *data = aligned_alloc(64, size);
        if (!data)
            return pf_fail("cpu scratch: out of memory for %zu bytes", bytes);
        free(b->data);
        b->data = data;
        b->size = size;
    }
    return b->data;
}

size_t pf_cpu_scratch_bytes(void)
{
    size_t total = 0;
    for (int t = 0; t < MAX_THREADS; t++)
        for (int s = 0; s < PF_CPU_SCRATCH_SLOTS; s++)
            total += buffers[t][s].size;
    return total;
}
