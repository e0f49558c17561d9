#ifndef SWITCHYARD_CCRYPT_H
#define SWITCHYARD_CCRYPT_H

/// Verifies `password` against a crypt(3) hash (bcrypt `$2a$`/`$2b$`/`$2y$`, `$1$` MD5, SHA-crypt) with the
/// system's libcrypt. Returns 1 when it matches, 0 when it does not, -1 when the hash is not one libcrypt knows.
int switchyard_crypt_verify(const char *password, const char *hash);

#endif
