// The brotli encoder of Debian's libbrotli-dev, for the compress middleware's `br` encoding.
#include <brotli/encode.h>
