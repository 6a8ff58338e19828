/* SPDX-License-Identifier: MIT
 *
 * cl_init_time: where an OpenCL cold start goes, without libmace.
 *
 *   cl_init_time [NAME-SUBSTRING]
 *
 * Times, on the first device whose name (or platform name) contains the
 * substring (default: the first GPU, else the first device):
 *   platforms     clGetPlatformIDs (ICD loader + every vendor library)
 *   context       clCreateContext
 *   queue         clCreateCommandQueue
 *   build_src     clCreateProgramWithSource + clBuildProgram of a small
 *                 kernel (OpenCL C front end + back end)
 *   get_binary    clGetProgramInfo(CL_PROGRAM_BINARIES); prints its size and
 *                 whether it looks like PTX text (NVIDIA) or an ELF
 *   build_bin     clCreateProgramWithBinary + clBuildProgram of that binary
 *                 (what a compiled-program cache hit costs)
 *   first_launch  clCreateKernel + one enqueue + clFinish
 * Prints one JSON object. Run it with CUDA_CACHE_DISABLE=1 and without to
 * see how much of a cold start is the driver's own JIT.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *src
    = "__kernel void saxpy(__global float *y, __global const float *x,\n"
      "                    float a, int n) {\n"
      "  int i = get_global_id(0);\n"
      "  if (i < n) y[i] = fma(a, x[i], y[i]);\n"
      "}\n"
      "__kernel void conv3x3(__global float *o, __global const float *in,\n"
      "                      __constant float *w, int h, int wd) {\n"
      "  int x = get_global_id(0), y = get_global_id(1);\n"
      "  if (x >= wd || y >= h) return;\n"
      "  float s = 0.f;\n"
      "  for (int dy = -1; dy <= 1; dy++)\n"
      "    for (int dx = -1; dx <= 1; dx++) {\n"
      "      int yy = clamp(y + dy, 0, h - 1), xx = clamp(x + dx, 0, wd - 1);\n"
      "      s += w[(dy + 1) * 3 + dx + 1] * in[yy * wd + xx];\n"
      "    }\n"
      "  o[y * wd + x] = s;\n"
      "}\n";

#define CHECK(rc, what)                                                        \
  do {                                                                         \
    if ((rc) != CL_SUCCESS) {                                                  \
      printf ("{\"error\": \"%s failed: %d\"}\n", what, (int)(rc));            \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int
main (int argc, char **argv)
{
  const char *want = argc > 1 ? argv[1] : NULL;
  double t0 = now_ms ();
  cl_uint np = 0;
  cl_int rc = clGetPlatformIDs (0, NULL, &np);
  CHECK (rc, "clGetPlatformIDs");
  cl_platform_id plats[16];
  if (np > 16)
    np = 16;
  clGetPlatformIDs (np, plats, NULL);
  double t_plat = now_ms () - t0;
  cl_device_id pick = NULL;
  char dname[256] = "", pname[256] = "", dver[256] = "";
  for (int pass = 0; pass < 2 && !pick; pass++)
    for (cl_uint p = 0; p < np && !pick; p++) {
      cl_device_id devs[16];
      cl_uint nd = 0;
      if (clGetDeviceIDs (plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd)
          != CL_SUCCESS)
        continue;
      for (cl_uint d = 0; d < nd && !pick; d++) {
        char n[256] = "", pn[256] = "";
        cl_device_type ty = 0;
        clGetDeviceInfo (devs[d], CL_DEVICE_NAME, sizeof n, n, NULL);
        clGetPlatformInfo (plats[p], CL_PLATFORM_NAME, sizeof pn, pn, NULL);
        clGetDeviceInfo (devs[d], CL_DEVICE_TYPE, sizeof ty, &ty, NULL);
        int ok = want ? (strstr (n, want) || strstr (pn, want))
                      : (pass == 1 || (ty & CL_DEVICE_TYPE_GPU));
        if (ok) {
          pick = devs[d];
          strcpy (dname, n);
          strcpy (pname, pn);
          clGetDeviceInfo (devs[d], CL_DRIVER_VERSION, sizeof dver, dver, NULL);
        }
      }
    }
  if (!pick) {
    printf ("{\"error\": \"no matching OpenCL device\"}\n");
    return 1;
  }
  double t1 = now_ms ();
  cl_context ctx = clCreateContext (NULL, 1, &pick, NULL, NULL, &rc);
  CHECK (rc, "clCreateContext");
  double t_ctx = now_ms () - t1;
  t1 = now_ms ();
  cl_command_queue q = clCreateCommandQueue (ctx, pick, 0, &rc);
  CHECK (rc, "clCreateCommandQueue");
  double t_queue = now_ms () - t1;

  t1 = now_ms ();
  cl_program prog = clCreateProgramWithSource (ctx, 1, &src, NULL, &rc);
  CHECK (rc, "clCreateProgramWithSource");
  rc = clBuildProgram (prog, 1, &pick, "-cl-std=CL1.2 -cl-mad-enable", NULL,
                       NULL);
  CHECK (rc, "clBuildProgram(source)");
  double t_src = now_ms () - t1;

  t1 = now_ms ();
  size_t bsize = 0;
  rc = clGetProgramInfo (prog, CL_PROGRAM_BINARY_SIZES, sizeof bsize, &bsize,
                         NULL);
  CHECK (rc, "CL_PROGRAM_BINARY_SIZES");
  unsigned char *bin = malloc (bsize + 1);
  unsigned char *bins[1] = { bin };
  rc = clGetProgramInfo (prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL);
  CHECK (rc, "CL_PROGRAM_BINARIES");
  double t_getbin = now_ms () - t1;
  const char *kind = "other";
  if (bsize > 4 && memcmp (bin, "\177ELF", 4) == 0)
    kind = "ELF";
  else {
    bin[bsize] = 0;
    if (strstr ((char *)bin, ".version") && strstr ((char *)bin, ".target"))
      kind = "PTX text";
  }

  t1 = now_ms ();
  const unsigned char *cbins[1] = { bin };
  cl_int bstat = 0;
  cl_program prog2
      = clCreateProgramWithBinary (ctx, 1, &pick, &bsize, cbins, &bstat, &rc);
  CHECK (rc, "clCreateProgramWithBinary");
  rc = clBuildProgram (prog2, 1, &pick, "-cl-std=CL1.2 -cl-mad-enable", NULL,
                       NULL);
  CHECK (rc, "clBuildProgram(binary)");
  double t_bin = now_ms () - t1;

  t1 = now_ms ();
  cl_kernel k = clCreateKernel (prog2, "saxpy", &rc);
  CHECK (rc, "clCreateKernel");
  int n = 1 << 20;
  float a = 2.f;
  cl_mem y = clCreateBuffer (ctx, CL_MEM_READ_WRITE, n * 4, NULL, &rc);
  CHECK (rc, "clCreateBuffer");
  cl_mem x = clCreateBuffer (ctx, CL_MEM_READ_WRITE, n * 4, NULL, &rc);
  CHECK (rc, "clCreateBuffer");
  clSetKernelArg (k, 0, sizeof y, &y);
  clSetKernelArg (k, 1, sizeof x, &x);
  clSetKernelArg (k, 2, sizeof a, &a);
  clSetKernelArg (k, 3, sizeof n, &n);
  size_t g = (size_t)n;
  rc = clEnqueueNDRangeKernel (q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
  CHECK (rc, "clEnqueueNDRangeKernel");
  rc = clFinish (q);
  CHECK (rc, "clFinish");
  double t_launch = now_ms () - t1;
  /* A second, warm launch: the floor of one kernel round trip. */
  t1 = now_ms ();
  for (int i = 0; i < 100; i++)
    clEnqueueNDRangeKernel (q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
  clFinish (q);
  double t_100 = now_ms () - t1;
  t1 = now_ms ();
  for (int i = 0; i < 100; i++) {
    clEnqueueNDRangeKernel (q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
    clFinish (q);
  }
  double t_100f = now_ms () - t1;

  printf ("{\"device\": \"%s\", \"platform\": \"%s\", \"driver\": \"%s\", "
          "\"platforms_ms\": %.3f, \"context_ms\": %.3f, \"queue_ms\": %.3f, "
          "\"build_src_ms\": %.3f, \"get_binary_ms\": %.3f, "
          "\"binary_bytes\": %zu, \"binary_kind\": \"%s\", "
          "\"build_bin_ms\": %.3f, \"first_launch_ms\": %.3f, "
          "\"launch_x100_one_finish_ms\": %.3f, "
          "\"launch_finish_x100_ms\": %.3f, \"total_ms\": %.3f, "
          "\"cuda_cache_disable\": \"%s\"}\n",
          dname, pname, dver, t_plat, t_ctx, t_queue, t_src, t_getbin, bsize,
          kind, t_bin, t_launch, t_100, t_100f, now_ms () - t0,
          getenv ("CUDA_CACHE_DISABLE") ? getenv ("CUDA_CACHE_DISABLE") : "");
  clReleaseMemObject (x);
  clReleaseMemObject (y);
  clReleaseKernel (k);
  clReleaseProgram (prog2);
  clReleaseProgram (prog);
  clReleaseCommandQueue (q);
  clReleaseContext (ctx);
  free (bin);
  return 0;
}
