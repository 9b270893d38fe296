// Open MPI's header, for the CMPI shim target only (Swift cannot import MPI's handle macros).
#include <mpi.h>
