/* SPDX-License-Identifier: Apache-2.0
 * OpenCL device selection, context and queue, and the programs built from
 * the embedded kernel sources (kernels/NAME.cl). */
#ifndef MACE_CL_DEVICE_H
#define MACE_CL_DEVICE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "internal.h"

/* One program source per kernels/NAME.cl file, headers already expanded.
 * Generated at build time (tools/embed_kernels.py); ends with {NULL}. */
typedef struct {
  const char *name;   /* file name without .cl: "conv", "pool"... */
  const char *source; /* NUL terminated OpenCL C */
  const char *sha256; /* hex digest of source */
} MaceClKernelSource;
extern const MaceClKernelSource mace_cl_kernel_sources[];

/* Build options of every program (part of the program cache key).  Math
 * stays precise: no -cl-fast-relaxed-math. */
#define MACE_CL_BUILD_OPTIONS "-cl-std=CL1.2 -cl-mad-enable"

typedef struct MaceClProgramSlot MaceClProgramSlot;

typedef struct {
  cl_platform_id platform;
  cl_device_id device;
  cl_context context;
  cl_command_queue queue;
  char name[256];
  char platform_name[256];
  cl_device_type type;
  size_t max_work_group_size;
  size_t max_work_item_sizes[3];
  bool has_fp16;
  bool has_subgroups;
  cl_uint compute_units;
  /* MACE_CL_PROFILE set: the queue records kernel times (events), and the
   * backend logs a per-launch table when it is freed. */
  bool profile;
  /* Optional compiled-program cache (NULL: build from source). */
  struct MaceClProgramCache *program_cache;
  int n_programs;
  MaceClProgramSlot *programs;
  /* Counters when no program cache is used. */
  int64_t programs_built;
  double compile_ms;
} MaceClDevice;

/* Opens the device chosen by `selector`: NULL or "" = the first GPU of any
 * platform, else the first device; a decimal index counts devices over
 * all platforms in order; anything else matches a substring of the device
 * or platform name (case-insensitive), GPUs first. */
MaceStatus mace_cl_device_open (const char *selector, MaceClDevice **out,
                                MaceError *err);
void mace_cl_device_free (MaceClDevice *dev);
/* OpenCL devices over all platforms (GPUs and accelerators only when
 * gpus_only). */
int mace_cl_count_devices (bool gpus_only);

/* Opens the compiled-program cache for dev (path NULL = default location
 * under the user cache directory; mode as MaceConfig's).  A cache that
 * cannot be opened is not an error: programs are then built from source. */
void mace_cl_device_open_program_cache (MaceClDevice *dev, const char *path,
                                        const char *mode, const char *base);
void mace_cl_device_flush_program_cache (MaceClDevice *dev);
/* Counters of the program cache (or of direct builds). */
void mace_cl_device_get_stats (MaceClDevice *dev, MaceCacheStats *stats);

/* The built program of kernels/<family>.cl (built on first use, then
 * shared).  NULL with err set on failure. */
cl_program mace_cl_device_program (MaceClDevice *dev, const char *family,
                                   MaceError *err);
/* A new kernel object from a family's program. */
cl_kernel mace_cl_device_kernel (MaceClDevice *dev, const char *family,
                                 const char *kernel, MaceError *err);

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *mace_cl_error_string (cl_int code);

/* The value of MACE_CL_KERNEL_DIR (NULL when unset), read once.  (The
 * other variables the backend reads are development switches, listed in
 * the README's table.) */
const char *mace_cl_kernel_dir (void);

#endif
