# Sourced by scripts/run and scripts/test: installs the Debian packages named in "need" that are missing
# (needs root or sudo for that).

# The C libraries the build links: SQLite (the store), crypt(3) (basicAuth hashes), brotli and Zstandard (compress).
build_packages() {
  [ -f /usr/include/sqlite3.h ] || need+=(libsqlite3-dev)
  [ -f /usr/include/crypt.h ] || need+=(libcrypt-dev)
  [ -f /usr/include/brotli/encode.h ] || need+=(libbrotli-dev)
  [ -f /usr/include/zstd.h ] || need+=(libzstd-dev)
  command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
}

install_needed() {
  if [ ${#need[@]} -gt 0 ]; then
    local sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update
    $sudo_cmd apt-get install -y --no-install-recommends "${need[@]}"
  fi
}
