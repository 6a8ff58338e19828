/* SPDX-License-Identifier: Apache-2.0
 * OpenCL device selection and program building. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cl/device.h"
#include "cl/program_cache.h"

struct MaceClProgramSlot {
  char *name;
  cl_program program;
};

const char *
mace_cl_kernel_dir (void)
{
  static gsize once = 0;
  static const char *dir = NULL;
  if (g_once_init_enter (&once)) {
    const char *v = g_getenv ("MACE_CL_KERNEL_DIR");
    dir = v && *v ? g_strdup (v) : NULL;
    g_once_init_leave (&once, 1);
  }
  return dir;
}

const char *
mace_cl_error_string (cl_int code)
{
  switch (code) {
    case CL_SUCCESS: return "CL_SUCCESS";
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
      return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_OFFSET: return "CL_INVALID_GLOBAL_OFFSET";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
    case CL_INVALID_BINARY: return "CL_INVALID_BINARY";
    case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    default: return "unknown OpenCL error";
  }
}

static void
device_info_str (cl_device_id d, cl_device_info what, char *buf, size_t len)
{
  buf[0] = '\0';
  if (clGetDeviceInfo (d, what, len, buf, NULL) != CL_SUCCESS)
    buf[0] = '\0';
  buf[len - 1] = '\0';
}

typedef struct {
  cl_platform_id platform;
  cl_device_id device;
  cl_device_type type;
  char name[256];
  char platform_name[256];
} Candidate;

static int
list_devices (Candidate **out)
{
  cl_uint np = 0;
  *out = NULL;
  if (clGetPlatformIDs (0, NULL, &np) != CL_SUCCESS || np == 0)
    return 0;
  cl_platform_id *plats = g_new0 (cl_platform_id, np);
  clGetPlatformIDs (np, plats, NULL);
  GArray *arr = g_array_new (FALSE, TRUE, sizeof (Candidate));
  for (cl_uint p = 0; p < np; p++) {
    cl_uint nd = 0;
    if (clGetDeviceIDs (plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd)
            != CL_SUCCESS
        || nd == 0)
      continue;
    cl_device_id *devs = g_new0 (cl_device_id, nd);
    clGetDeviceIDs (plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL);
    for (cl_uint d = 0; d < nd; d++) {
      Candidate c;
      memset (&c, 0, sizeof c);
      c.platform = plats[p];
      c.device = devs[d];
      clGetDeviceInfo (devs[d], CL_DEVICE_TYPE, sizeof c.type, &c.type, NULL);
      device_info_str (devs[d], CL_DEVICE_NAME, c.name, sizeof c.name);
      if (clGetPlatformInfo (plats[p], CL_PLATFORM_NAME, sizeof c.platform_name,
                             c.platform_name, NULL)
          != CL_SUCCESS)
        c.platform_name[0] = '\0';
      c.platform_name[sizeof c.platform_name - 1] = '\0';
      g_array_append_val (arr, c);
    }
    g_free (devs);
  }
  g_free (plats);
  int n = (int)arr->len;
  *out = (Candidate *)g_array_free (arr, FALSE);
  return n;
}

int
mace_cl_count_devices (bool gpus_only)
{
  Candidate *c = NULL;
  int n = list_devices (&c), count = 0;
  for (int i = 0; i < n; i++)
    if (!gpus_only
        || (c[i].type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)))
      count++;
  g_free (c);
  return count;
}

static bool
is_index (const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static int
choose (const Candidate *c, int n, const char *sel)
{
  if (!sel || !*sel) {
    for (int i = 0; i < n; i++)
      if (c[i].type & CL_DEVICE_TYPE_GPU)
        return i;
    return n > 0 ? 0 : -1;
  }
  if (is_index (sel)) {
    long idx = strtol (sel, NULL, 10);
    return idx < n ? (int)idx : -1;
  }
  char *want = g_utf8_strdown (sel, -1);
  int found = -1;
  /* GPUs first, then any device. */
  for (int pass = 0; pass < 2 && found < 0; pass++)
    for (int i = 0; i < n && found < 0; i++) {
      if (pass == 0 && !(c[i].type & CL_DEVICE_TYPE_GPU))
        continue;
      char *a = g_utf8_strdown (c[i].name, -1);
      char *b = g_utf8_strdown (c[i].platform_name, -1);
      if (strstr (a, want) || strstr (b, want))
        found = i;
      g_free (a);
      g_free (b);
    }
  g_free (want);
  return found;
}

MaceStatus
mace_cl_device_open (const char *selector, MaceClDevice **out, MaceError *err)
{
  *out = NULL;
  Candidate *c = NULL;
  int n = list_devices (&c);
  if (n == 0) {
    g_free (c);
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "no OpenCL device found (is an ICD such as "
                    "pocl-opencl-icd installed?)");
    return MACE_ERROR_BACKEND;
  }
  int pick = choose (c, n, selector);
  if (pick < 0) {
    GString *names = g_string_new ("");
    for (int i = 0; i < n; i++)
      g_string_append_printf (names, "%s%d: %s (%s)", i ? ", " : "", i,
                              c[i].name, c[i].platform_name);
    mace_set_error (err, MACE_ERROR_INVALID_ARG,
                    "no OpenCL device matches '%s'; devices: %s", selector,
                    names->str);
    g_string_free (names, TRUE);
    g_free (c);
    return MACE_ERROR_INVALID_ARG;
  }
  MaceClDevice *dev = g_new0 (MaceClDevice, 1);
  dev->platform = c[pick].platform;
  dev->device = c[pick].device;
  dev->type = c[pick].type;
  g_strlcpy (dev->name, c[pick].name, sizeof dev->name);
  g_strlcpy (dev->platform_name, c[pick].platform_name,
             sizeof dev->platform_name);
  g_free (c);

  cl_int rc;
  cl_context_properties props[]
      = { CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0 };
  dev->context = clCreateContext (props, 1, &dev->device, NULL, NULL, &rc);
  if (!dev->context) {
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL: cannot create a context on '%s': %s", dev->name,
                    mace_cl_error_string (rc));
    g_free (dev);
    return MACE_ERROR_BACKEND;
  }
  const char *prof = g_getenv ("MACE_CL_PROFILE");
  dev->profile = prof && *prof && strcmp (prof, "0") != 0;
  dev->queue = clCreateCommandQueue (
      dev->context, dev->device, dev->profile ? CL_QUEUE_PROFILING_ENABLE : 0,
      &rc);
  if (!dev->queue) {
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL: cannot create a command queue on '%s': %s",
                    dev->name, mace_cl_error_string (rc));
    clReleaseContext (dev->context);
    g_free (dev);
    return MACE_ERROR_BACKEND;
  }
  clGetDeviceInfo (dev->device, CL_DEVICE_MAX_COMPUTE_UNITS,
                   sizeof dev->compute_units, &dev->compute_units, NULL);
  clGetDeviceInfo (dev->device, CL_DEVICE_MAX_WORK_GROUP_SIZE,
                   sizeof dev->max_work_group_size, &dev->max_work_group_size,
                   NULL);
  clGetDeviceInfo (dev->device, CL_DEVICE_MAX_WORK_ITEM_SIZES,
                   sizeof dev->max_work_item_sizes, dev->max_work_item_sizes,
                   NULL);
  if (dev->max_work_group_size == 0)
    dev->max_work_group_size = 1;
  size_t ext_len = 0;
  clGetDeviceInfo (dev->device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len);
  char *ext = g_malloc0 (ext_len + 1);
  clGetDeviceInfo (dev->device, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL);
  dev->has_fp16 = strstr (ext, "cl_khr_fp16") != NULL;
  dev->has_subgroups = strstr (ext, "cl_khr_subgroups") != NULL
                       || strstr (ext, "cl_intel_subgroups") != NULL;
  g_free (ext);
  mace_log (MACE_LOG_DEBUG,
            "OpenCL: device '%s' on '%s' (%s), max work-group %zu, "
            "fp16 %s, subgroups %s",
            dev->name, dev->platform_name,
            (dev->type & CL_DEVICE_TYPE_GPU) ? "GPU" : "not a GPU",
            dev->max_work_group_size, dev->has_fp16 ? "yes" : "no",
            dev->has_subgroups ? "yes" : "no");
  *out = dev;
  return MACE_OK;
}

void
mace_cl_device_free (MaceClDevice *dev)
{
  if (!dev)
    return;
  for (int i = 0; i < dev->n_programs; i++) {
    g_free (dev->programs[i].name);
    if (dev->programs[i].program)
      clReleaseProgram (dev->programs[i].program);
  }
  g_free (dev->programs);
  mace_cl_program_cache_close (dev->program_cache);
  if (dev->queue)
    clReleaseCommandQueue (dev->queue);
  if (dev->context)
    clReleaseContext (dev->context);
  g_free (dev);
}

void
mace_cl_device_open_program_cache (MaceClDevice *dev, const char *path,
                                   const char *mode, const char *base)
{
  MaceError err = { 0 };
  dev->program_cache = mace_cl_program_cache_open (path, mode, dev->context,
                                                   dev->device, &err);
  if (!dev->program_cache)
    mace_log (MACE_LOG_WARNING,
              "OpenCL: no compiled-program cache, building from source: %s",
              err.message);
  else if (base)
    mace_cl_program_cache_set_base (dev->program_cache, base);
}

void
mace_cl_device_flush_program_cache (MaceClDevice *dev)
{
  if (!dev->program_cache)
    return;
  MaceError err = { 0 };
  if (mace_cl_program_cache_flush (dev->program_cache, &err) != MACE_OK)
    mace_log (MACE_LOG_WARNING, "OpenCL: program cache not written: %s",
              err.message);
}

void
mace_cl_device_get_stats (MaceClDevice *dev, MaceCacheStats *stats)
{
  memset (stats, 0, sizeof *stats);
  if (dev->program_cache) {
    mace_cl_program_cache_get_stats (dev->program_cache, stats);
    return;
  }
  stats->cache_misses = dev->programs_built;
  stats->programs_built = dev->programs_built;
  stats->compile_ms = dev->compile_ms;
}

/* Appends file `name` of dir to out, replacing each #include "x.h" line by
 * that file's text, recursively, as tools/embed_kernels.py does. */
static bool
expand_file (const char *dir, const char *name, GString *out, int depth,
             MaceError *err)
{
  char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;
  GError *gerr = NULL;
  if (depth > 8 || !g_file_get_contents (path, &text, NULL, &gerr)) {
    mace_set_error (err, MACE_ERROR_IO,
                    "OpenCL: cannot read %s (MACE_CL_KERNEL_DIR): %s", path,
                    gerr ? gerr->message : "includes nested too deep");
    if (gerr)
      g_error_free (gerr);
    g_free (path);
    return false;
  }
  g_free (path);
  char **lines = g_strsplit (text, "\n", -1);
  g_free (text);
  bool ok = true;
  for (int i = 0; lines[i] && ok; i++) {
    const char *l = lines[i];
    while (*l == ' ' || *l == '\t')
      l++;
    char hname[128];
    if (sscanf (l, "#include \"%127[^\"]\"", hname) == 1)
      ok = expand_file (dir, hname, out, depth + 1, err);
    else
      g_string_append (out, lines[i]);
    if (lines[i + 1])
      g_string_append_c (out, '\n');
  }
  g_strfreev (lines);
  return ok;
}

/* Source of a family: the embedded copy, or kernels/<family>.cl from
 * MACE_CL_KERNEL_DIR with its includes expanded.  Returns a g_malloc'ed
 * string. */
static char *
family_source (const char *family, MaceError *err)
{
  const char *dir = mace_cl_kernel_dir ();
  if (!dir) {
    for (const MaceClKernelSource *s = mace_cl_kernel_sources; s->name; s++)
      if (strcmp (s->name, family) == 0)
        return g_strdup (s->source);
    mace_set_error (err, MACE_ERROR_INTERNAL,
                    "OpenCL: no embedded kernel program '%s'", family);
    return NULL;
  }
  char *file = g_strdup_printf ("%s.cl", family);
  GString *out = g_string_new ("");
  bool ok = expand_file (dir, file, out, 0, err);
  g_free (file);
  if (!ok) {
    g_string_free (out, TRUE);
    return NULL;
  }
  mace_log (MACE_LOG_DEBUG, "OpenCL: program '%s' read from %s", family, dir);
  return g_string_free (out, FALSE);
}

/* Builds one program: through the compiled-program cache when it is open,
 * else from source. */
static cl_program
build_program (MaceClDevice *dev, const char *family, const char *source,
               MaceError *err)
{
  if (dev->program_cache)
    return mace_cl_program_cache_get (dev->program_cache, family, source,
                                      MACE_CL_BUILD_OPTIONS, err);
  cl_int rc;
  gint64 t0 = g_get_monotonic_time ();
  cl_program prog
      = clCreateProgramWithSource (dev->context, 1, &source, NULL, &rc);
  if (!prog) {
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL: cannot create program '%s': %s", family,
                    mace_cl_error_string (rc));
    return NULL;
  }
  rc = clBuildProgram (prog, 1, &dev->device, MACE_CL_BUILD_OPTIONS, NULL,
                       NULL);
  if (rc != CL_SUCCESS) {
    size_t len = 0;
    clGetProgramBuildInfo (prog, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                           &len);
    char *log = g_malloc0 (len + 1);
    clGetProgramBuildInfo (prog, dev->device, CL_PROGRAM_BUILD_LOG, len, log,
                           NULL);
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL: building program '%s' failed (%s): %.700s", family,
                    mace_cl_error_string (rc), log);
    g_free (log);
    clReleaseProgram (prog);
    return NULL;
  }
  dev->programs_built++;
  dev->compile_ms += (double)(g_get_monotonic_time () - t0) / 1000.0;
  return prog;
}

cl_program
mace_cl_device_program (MaceClDevice *dev, const char *family, MaceError *err)
{
  for (int i = 0; i < dev->n_programs; i++)
    if (strcmp (dev->programs[i].name, family) == 0)
      return dev->programs[i].program;
  char *source = family_source (family, err);
  if (!source)
    return NULL;
  cl_program prog = build_program (dev, family, source, err);
  g_free (source);
  if (!prog)
    return NULL;
  dev->programs
      = g_renew (MaceClProgramSlot, dev->programs, dev->n_programs + 1);
  dev->programs[dev->n_programs].name = g_strdup (family);
  dev->programs[dev->n_programs].program = prog;
  dev->n_programs++;
  return prog;
}

cl_kernel
mace_cl_device_kernel (MaceClDevice *dev, const char *family,
                       const char *kernel, MaceError *err)
{
  cl_program prog = mace_cl_device_program (dev, family, err);
  if (!prog)
    return NULL;
  cl_int rc;
  cl_kernel k = clCreateKernel (prog, kernel, &rc);
  if (!k)
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL: no kernel '%s' in program '%s': %s", kernel,
                    family, mace_cl_error_string (rc));
  return k;
}
