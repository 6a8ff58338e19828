/* SPDX-License-Identifier: Apache-2.0
 * Normalisation ops against reference loops (being written). */
#include "harness.h"

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  return th_finish ();
}
