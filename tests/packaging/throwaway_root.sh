# shellcheck shell=bash
# Sourced by the package tests: a throwaway root that dpkg can install the
# .deb into, and dpkg pointed at it. No chroot: there is no Debian mirror
# here to build one (mmdebstrap needs one), so the maintainer scripts run
# chrootless (--force-script-chrootless) with DPKG_ROOT set, and they take
# every path and the user database below it. --force-depends: the root's
# dpkg database lists none of the libraries the package depends on (the
# tests check the .deb's Depends instead).

# make_root DIR: an empty dpkg database and a user database holding root.
make_root() {
  local r=$1
  mkdir -p "$r/etc" "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers"
  touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
  printf 'root:x:0:\n' > "$r/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' > "$r/etc/shadow"
  printf 'root:*::\n' > "$r/etc/gshadow"
  chmod 0640 "$r/etc/shadow" "$r/etc/gshadow"
}

# dpkg_in ROOT ARGS...: dpkg on the throwaway root.
dpkg_in() {
  local r=$1
  shift
  dpkg --root="$r" --force-script-chrootless --force-depends --force-not-root "$@"
}

# id_in ROOT passwd|group NAME: NAME's numeric id in the root's database.
id_in() {
  awk -F: -v n="$3" '$1 == n { print $3 }' "$1/etc/$2"
}
