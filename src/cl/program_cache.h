/* SPDX-License-Identifier: Apache-2.0
 * The compiled-program cache `mace-cl-compiled-program.bin`: OpenCL program
 * binaries kept per device (platform, device, vendor, driver, OpenCL C
 * version, pointer width) and per program (name, SHA-256 of the source,
 * build options), reused on the next start and rebuilt from source when
 * missing, stale or damaged.  See DESIGN.md, "Compiled-program cache".
 *
 * Thread-safe: one cache may be used from several threads. */
#ifndef MACE_CL_PROGRAM_CACHE_H
#define MACE_CL_PROGRAM_CACHE_H

#include <CL/cl.h>

#include "internal.h"

#define MACE_CL_PROGRAM_CACHE_FILE "mace-cl-compiled-program.bin"

typedef struct MaceClProgramCache MaceClProgramCache;

/* Opens (reads + validates) the cache for this context/device.  path NULL =
 * default ($XDG_CACHE_HOME/gst-mace/mace-cl-compiled-program.bin, else
 * ~/.cache/gst-mace/...).  mode: "read-write" (default when NULL),
 * "read-only", "off", "rebuild".  Never fails because of the file's state
 * (missing/corrupt/unwritable only log warnings); returns NULL only for a
 * bad mode string or out of memory, with err set. */
MaceClProgramCache *mace_cl_program_cache_open (const char *path,
                                                const char *mode,
                                                cl_context context,
                                                cl_device_id device,
                                                MaceError *err);
/* Puts the cache at `path`, opened read-only, under c (DESIGN.md: "a
 * read-only cache shipped with an app can sit under a writable per-user
 * one"): a program c has no valid entry for is loaded from it when it has
 * one, and built from source (and written to c) only when neither has.
 * The base file is never written.  Ignored in modes off and rebuild; a
 * base that cannot be read is reported like any cache file. */
void mace_cl_program_cache_set_base (MaceClProgramCache *c, const char *path);
/* A built program for (name, source, options): from a valid cached binary,
 * else built from source (and recorded for the next write).  The source
 * hash covers the full source string (the caller passes the source with
 * its headers already concatenated).  options may be NULL (= "").  Returns
 * NULL with err set (including the build log) only if building from source
 * fails.  The caller owns the returned program (clReleaseProgram). */
cl_program mace_cl_program_cache_get (MaceClProgramCache *cache,
                                      const char *name, const char *source,
                                      const char *options, MaceError *err);
/* Writes the file if something new was built since open or the last flush
 * (atomic, under the sidecar lock, merged with what other processes wrote).
 * A failed write degrades the cache to read-only with one warning and
 * returns the error. */
MaceStatus mace_cl_program_cache_flush (MaceClProgramCache *cache,
                                        MaceError *err);
/* Sets this cache's counters in *stats (hits, misses, programs built,
 * compile time -- source builds and binary loads -- and rejections by
 * reason); fields it does not own, such as nodes_on_cpu, are left alone. */
void mace_cl_program_cache_get_stats (const MaceClProgramCache *cache,
                                      MaceCacheStats *stats);
/* The file this cache reads and writes. */
const char *mace_cl_program_cache_path (const MaceClProgramCache *cache);
/* Flushes, then frees.  NULL is allowed. */
void mace_cl_program_cache_close (MaceClProgramCache *cache);

/* ---- Shared with the tuning cache ------------------------------------ */

/* The section key of a device (labels and values, MACE_CACHE_DEVICE_KEYS
 * pairs), g_strdup'ed into keys[] (free each with g_free).  Returns
 * MACE_OK or MACE_ERROR_BACKEND with err set. */
#define MACE_CACHE_DEVICE_KEYS 7
MaceStatus mace_cl_cache_device_keys (cl_device_id device,
                                      char *labels[MACE_CACHE_DEVICE_KEYS],
                                      char *values[MACE_CACHE_DEVICE_KEYS],
                                      MaceError *err);

#endif
