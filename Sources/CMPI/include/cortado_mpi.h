// A small C shim over MPI for Cortado's data-parallel training. Swift cannot import MPI's
// handle macros (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM are addresses of globals in Open MPI), so
// these functions take plain C types and always use MPI_COMM_WORLD.
//
// Every wait polls with a deadline (seconds; <= 0 waits forever) so that a rank that died
// or hangs ends the others with an error instead of a silent hang.
#ifndef CORTADO_MPI_H
#define CORTADO_MPI_H

#include <stdint.h>

/// Return codes besides MPI's own error codes (which are > 0 and < CMPI_TIMEOUT).
enum { CMPI_OK = 0, CMPI_TIMEOUT = -1, CMPI_NOT_INITIALIZED = -2 };

/// 1 when a launcher (mpirun, mpiexec, srun with PMI) started this process.
int cmpi_launched(void);
/// MPI_Init_thread asking for MPI_THREAD_SERIALIZED (one thread at a time calls MPI).
int cmpi_init(int *rank, int *size);
int cmpi_finalize(void);
/// Ends every rank of the job (MPI_Abort).
void cmpi_abort(int code);
/// The library's version string (MPI_Get_library_version), first line only.
void cmpi_library_version(char *out, int capacity);
/// The text of an MPI error code.
void cmpi_error_string(int code, char *out, int capacity);

int cmpi_bcast_bytes(void *buffer, int64_t count, int root, double timeout);
int cmpi_allgather_bytes(const void *send, void *receive, int count, double timeout);
int cmpi_send_floats(const float *buffer, int64_t count, int destination, int tag, double timeout);
int cmpi_recv_floats(float *buffer, int64_t count, int source, int tag, double timeout);
/// In-place sum over all ranks in the library's order (MPI_Iallreduce).
int cmpi_allreduce_sum_floats(float *buffer, int64_t count, double timeout);
/// The rank a failing wait was waiting on, or -1 for a collective (for error messages).
int cmpi_last_peer(void);

#endif
