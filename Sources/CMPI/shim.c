#include "cortado_mpi.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>

// MPI counts are ints: larger buffers go in pieces of at most this many elements.
static const int64_t piece = 1 << 28;
static int last_peer = -1;

int cmpi_launched(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", NULL};
    for (int i = 0; vars[i]; i++) {
        if (getenv(vars[i])) return 1;
    }
    return 0;
}

int cmpi_init(int *rank, int *size) {
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return rc;
    // Errors come back as codes, so Cortado can say what failed instead of the library aborting.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return CMPI_OK;
}

int cmpi_finalize(void) { return MPI_Finalize(); }

void cmpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

void cmpi_library_version(char *out, int capacity) {
    char text[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(text, &length);
    text[length < MPI_MAX_LIBRARY_VERSION_STRING ? length : MPI_MAX_LIBRARY_VERSION_STRING - 1] = 0;
    char *newline = strchr(text, '\n');
    if (newline) *newline = 0;
    snprintf(out, (size_t)capacity, "%s", text);
}

void cmpi_error_string(int code, char *out, int capacity) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
    text[length] = 0;
    snprintf(out, (size_t)capacity, "%s", text);
}

int cmpi_last_peer(void) { return last_peer; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Polls a request until it completes or the deadline passes: spins briefly (short messages
// answer in microseconds), then sleeps 50 µs between polls so a long wait costs little CPU.
static int wait_for(MPI_Request *request, double timeout) {
    double deadline = timeout > 0 ? now() + timeout : 0;
    for (long polls = 0;; polls++) {
        int done = 0;
        int rc = MPI_Test(request, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return rc;
        if (done) return CMPI_OK;
        if (polls < 2000) {
            sched_yield();
            continue;
        }
        if (deadline > 0 && now() > deadline) {
            return CMPI_TIMEOUT;
        }
        struct timespec pause = {0, 50000};
        nanosleep(&pause, NULL);
    }
}

enum transfer { BROADCAST_BYTES, SEND_FLOATS, RECEIVE_FLOATS, SUM_FLOATS };

// Starts one transfer of `count` elements in pieces MPI's int counts can hold, waiting for each.
static int transfer(enum transfer kind, void *buffer, int64_t count, int peer, int tag, double timeout) {
    last_peer = kind == SUM_FLOATS ? -1 : peer;
    size_t size = kind == BROADCAST_BYTES ? 1 : sizeof(float);
    for (int64_t start = 0; start < count; start += piece) {
        int n = (int)(count - start < piece ? count - start : piece);
        char *at = (char *)buffer + (size_t)start * size;
        MPI_Request request;
        int rc;
        switch (kind) {
        case BROADCAST_BYTES: rc = MPI_Ibcast(at, n, MPI_BYTE, peer, MPI_COMM_WORLD, &request); break;
        case SEND_FLOATS: rc = MPI_Isend(at, n, MPI_FLOAT, peer, tag, MPI_COMM_WORLD, &request); break;
        case RECEIVE_FLOATS: rc = MPI_Irecv(at, n, MPI_FLOAT, peer, tag, MPI_COMM_WORLD, &request); break;
        default: rc = MPI_Iallreduce(MPI_IN_PLACE, at, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request); break;
        }
        if (rc == MPI_SUCCESS) rc = wait_for(&request, timeout);
        if (rc != CMPI_OK) return rc;
    }
    return CMPI_OK;
}

int cmpi_bcast_bytes(void *buffer, int64_t count, int root, double timeout) {
    return transfer(BROADCAST_BYTES, buffer, count, root, 0, timeout);
}

int cmpi_allgather_bytes(const void *send, void *receive, int count, double timeout) {
    last_peer = -1;
    MPI_Request request;
    int rc = MPI_Iallgather(send, count, MPI_BYTE, receive, count, MPI_BYTE, MPI_COMM_WORLD, &request);
    return rc == MPI_SUCCESS ? wait_for(&request, timeout) : rc;
}

int cmpi_send_floats(const float *buffer, int64_t count, int destination, int tag, double timeout) {
    return transfer(SEND_FLOATS, (void *)buffer, count, destination, tag, timeout);
}

int cmpi_recv_floats(float *buffer, int64_t count, int source, int tag, double timeout) {
    return transfer(RECEIVE_FLOATS, buffer, count, source, tag, timeout);
}

int cmpi_allreduce_sum_floats(float *buffer, int64_t count, double timeout) {
    return transfer(SUM_FLOATS, buffer, count, -1, 0, timeout);
}
