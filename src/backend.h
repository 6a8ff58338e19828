/* SPDX-License-Identifier: Apache-2.0
 * The backend interface.  The engine loads, optimises and shape-infers the
 * graph, then hands it to one backend.  The rest of the library never
 * includes a backend's own headers. */
#ifndef MACE_BACKEND_H
#define MACE_BACKEND_H

#include "frame.h"
#include "internal.h"

/* The settings of a MaceConfig, readable by backends. */
struct MaceConfig {
  MaceBackendType backend;
  int threads;
  int optimize;
  int allow_fallback;
  char *cl_device;          /* NULL = first GPU, else first device */
  char *program_cache;      /* NULL = default location */
  char *program_cache_mode; /* "read-write", "read-only", "off", "rebuild" */
  char *program_cache_base; /* read-only cache under it, NULL = none */
  char *tuning_cache;       /* NULL = default location */
  int tune;
  int n_shapes;
  char **shape_names;
  int *shape_ndims;
  int64_t (*shape_dims)[MACE_MAX_DIMS];
};

typedef struct MaceBackend MaceBackend;

typedef struct {
  const char *name;
  /* Required.  Called once the graph is optimised and every value's dtype
   * and shape is known (values with `dynamic` set are not: a backend that
   * cannot handle them fails with MACE_ERROR_UNSUPPORTED).  Constants hold
   * data.  Places nodes, builds programs (through the program cache),
   * allocates memory.  With allow_fallback == 0 a node the backend cannot
   * run is an error naming it; otherwise it runs on the CPU op (def->run)
   * with a log line.  `pool` is the engine's CPU pool for fallback nodes. */
  MaceStatus (*prepare) (MaceBackend **out, MaceGraph *graph,
                         const MaceConfig *config, MaceThreadPool *pool,
                         MaceError *err);
  /* Required.  inputs[i] are host tensors in graph-input order (shapes
   * equal to the prepared ones); outputs[i] are host tensors already
   * shaped and allocated by the engine, in graph-output order. */
  MaceStatus (*run) (MaceBackend *backend, MaceTensor **inputs,
                     MaceTensor **outputs, MaceError *err);
  /* Optional: run() in parts.  submit enqueues the whole run behind
   * those still in flight (up to two), with *fence a handle fence_wait
   * blocks on until its outputs are on the host; the inputs' and
   * outputs' host memory belongs to the run until then.  retire
   * (optional) completes the bookkeeping of a run seen done by its fence
   * (first-run work); finish waits for every run and completes them. */
  MaceStatus (*submit) (MaceBackend *backend, MaceTensor **inputs,
                        MaceTensor **outputs, void **fence, MaceError *err);
  MaceStatus (*retire) (MaceBackend *backend, MaceError *err);
  MaceStatus (*finish) (MaceBackend *backend, MaceError *err);
  /* With submit: thread-safe, they touch nothing but the fence; fence_ref
   * returns a new reference, each freed with fence_free. */
  MaceStatus (*fence_wait) (void *fence);
  void *(*fence_ref) (void *fence);
  void (*fence_free) (void *fence);
  /* Optional: cache counters. */
  void (*get_stats) (MaceBackend *backend, MaceCacheStats *stats);
  /* Required. */
  void (*free) (MaceBackend *backend);
  /* Optional: preprocesses a frame (resolved in plan) straight into graph
   * input `index` on the device, so run() does not upload that input.
   * `host` is the engine's host tensor of the input (shaped like the
   * prepared input), to be filled only when a CPU node reads it.  Counts
   * the copies it makes in stats. */
  MaceStatus (*set_input_frame) (MaceBackend *backend, int index,
                                 const MaceFrame *frame,
                                 const MaceFramePlan *plan, MaceTensor *host,
                                 MaceFrameStats *stats, MaceError *err);
  /* Optional: input `index` comes from the host tensor again. */
  void (*forget_input_frame) (MaceBackend *backend, int index);
  /* Optional: the backend's OpenCL context, device and queue. */
  MaceStatus (*get_cl_handles) (MaceBackend *backend, void **context,
                                void **device, void **queue);
} MaceBackendVtbl;

#ifdef MACE_HAVE_OPENCL
extern const MaceBackendVtbl mace_cl_backend;
#endif

#endif
