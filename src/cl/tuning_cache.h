/* SPDX-License-Identifier: Apache-2.0
 * The tuning cache `mace-cl-tuned-params.bin`: local work-group sizes (and
 * a kernel variant) per device + kernel + shape, in the same file format as
 * the compiled-program cache (header, device sections, checksums, locked
 * merge, atomic write).  See DESIGN.md, "Tuning cache".  Thread-safe. */
#ifndef MACE_CL_TUNING_CACHE_H
#define MACE_CL_TUNING_CACHE_H

#include <CL/cl.h>

#include "internal.h"

#define MACE_CL_TUNING_CACHE_FILE "mace-cl-tuned-params.bin"

typedef struct MaceClTuningCache MaceClTuningCache;

/* Opens (reads + validates) the tuning cache for this device.  path NULL =
 * default ($XDG_CACHE_HOME/gst-mace/mace-cl-tuned-params.bin, else
 * ~/.cache/gst-mace/...).  mode as for the program cache: "read-write"
 * (default when NULL), "read-only", "off", "rebuild" (ignore what is
 * stored; what is stored now replaces it).  Returns NULL only for a bad
 * mode string, a device that cannot be queried, or out of memory. */
MaceClTuningCache *mace_cl_tuning_cache_open (const char *path,
                                              const char *mode,
                                              cl_device_id device,
                                              MaceError *err);
/* key: kernel name + shape string; returns 1 and fills lws[0..2] (and
 * *variant when not NULL) when tuned, else 0. */
int mace_cl_tuning_cache_lookup (MaceClTuningCache *c, const char *key,
                                 size_t lws[3], int *variant);
/* Records a tuned result (written on flush / close). */
void mace_cl_tuning_cache_store (MaceClTuningCache *c, const char *key,
                                 const size_t lws[3], int variant);
/* Writes the file if something was stored since open / the last flush. */
MaceStatus mace_cl_tuning_cache_flush (MaceClTuningCache *c, MaceError *err);
/* Flushes, then frees.  NULL is allowed. */
void mace_cl_tuning_cache_close (MaceClTuningCache *c);

#endif
