// oneDNN (Debian's libdnnl-dev, built with OpenMP) and the one OpenMP call Cortado makes:
// each of Cortado's threads runs oneDNN single-threaded on its own images.
#include <oneapi/dnnl/dnnl.h>
void omp_set_num_threads(int);
