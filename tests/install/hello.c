/* SPDX-License-Identifier: Apache-2.0
 * Built by the install test against the installed libmace.pc: loads the
 * tiny model from make_model.py (y = Relu(x + 1)) and checks its output. */
#include <math.h>
#include <stdio.h>

#include <mace.h>

int
main (int argc, char **argv)
{
  MaceError err = { 0 };
  const int64_t dims[2] = { 1, 4 };
  float x[4] = { -2.0f, -1.0f, 1.0f, 2.0f };
  const float want[4] = { 0.0f, 0.0f, 2.0f, 3.0f };

  if (argc != 2) {
    fprintf (stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  MaceEngine *engine = mace_engine_load_file (argv[1], NULL, &err);
  if (!engine) {
    fprintf (stderr, "load failed (%s): %s\n",
             mace_status_to_string (err.status), err.message);
    return 1;
  }
  MaceTensor *in = mace_tensor_new_wrap (MACE_DTYPE_FLOAT32, 2, dims, x);
  if (mace_engine_set_input (engine, 0, in) != MACE_OK
      || mace_engine_run (engine) != MACE_OK) {
    fprintf (stderr, "run failed: %s\n", mace_engine_last_error (engine));
    return 1;
  }
  const MaceTensor *out = mace_engine_get_output (engine, 0);
  const float *y = mace_tensor_data_const (out);
  int ok = mace_tensor_numel (out) == 4;
  for (int i = 0; ok && i < 4; i++)
    ok = fabsf (y[i] - want[i]) < 1e-6f;
  printf ("%s = [%g, %g, %g, %g]: %s\n", mace_engine_output_name (engine, 0),
          y[0], y[1], y[2], y[3], ok ? "ok" : "WRONG");
  mace_tensor_free (in);
  mace_engine_free (engine);
  return ok ? 0 : 1;
}
