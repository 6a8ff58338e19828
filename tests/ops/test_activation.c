/* placeholder */
#include "harness.h"
int main (int argc, char **argv) { th_init (argc, argv); return th_finish (); }
