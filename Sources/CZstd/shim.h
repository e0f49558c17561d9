// The Zstandard library of Debian's libzstd-dev, for the compress middleware's `zstd` encoding.
#include <zstd.h>
