// libpng's simplified API; its format flags are macro expressions, wrapped here.
#include <png.h>
static inline unsigned cpng_format_bgr(void) { return PNG_FORMAT_BGR; }
static inline unsigned cpng_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline unsigned cpng_image_version(void) { return PNG_IMAGE_VERSION; }
static inline size_t cpng_image_size(png_image *image) { return PNG_IMAGE_SIZE(*image); }
