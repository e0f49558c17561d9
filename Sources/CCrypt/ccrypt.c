#include "ccrypt.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

int switchyard_crypt_verify(const char *password, const char *hash) {
    struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) {
        return -1;
    }
    const char *computed = crypt_r(password, hash, data);
    int result;
    if (computed == NULL || computed[0] == '*') {
        result = -1;
    } else {
        size_t length = strlen(hash);
        /* Constant time over the hash's length. */
        unsigned char difference = (unsigned char)(strlen(computed) != length);
        for (size_t i = 0; i < length && computed[i] != '\0'; i++) {
            difference |= (unsigned char)(computed[i] ^ hash[i]);
        }
        result = difference == 0 ? 1 : 0;
    }
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
    return result;
}
