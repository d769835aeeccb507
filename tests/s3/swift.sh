# shellcheck shell=bash disable=SC2154,SC2034
# (dir, HERE, PY, S3_* ... are s3-server.sh's; S3_* are read back there.)
# OpenStack Swift with its s3api middleware, sourced by s3-server.sh.
#
# Five processes, each in its own process group: memcached (tempauth keeps
# its tokens there), the account, container and object servers, and the
# proxy with s3api in front of tempauth. One replica, one device directory
# (DIR/data/d1), rings built under DIR/etc. Every server runs in a single
# process (workers = 0) through swift_server.py, which reads swift.conf
# from DIR/etc instead of /etc/swift and logs to DIR/log.
#
# What this Swift (2.30) does as S3: SigV4 with payload SHA-256 checks,
# region us-east-1, path-style, access key "account:user", multipart (via
# slo). It requires Content-MD5 on DeleteObjects, answers 501 to aws-chunked
# uploads and conditional PUTs, and ignores Object Lock (hence
# AILEE_TEST_S3_OBJECT_LOCK=0).

swift_default_timeout() { echo 60; }

swift_check_packages() {
  local missing=()
  command -v memcached >/dev/null || missing+=(memcached)
  # swift_server.py needs only python3-swift (the swift-* server packages
  # add their scripts and /etc configs, which we do not use). find_spec, not
  # import: importing Swift costs a second of CPU.
  "$PY" -c 'import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ("swift", "eventlet")))' \
    2>/dev/null || missing+=(python3-swift)
  command -v curl >/dev/null || missing+=(curl)
  [ -x "$AWS" ] || command -v "$AWS" >/dev/null || missing+=(awscli)
  ((${#missing[@]} == 0)) || die "missing packages: ${missing[*]} (bash scripts/install-deps.sh installs them)"
}

# Distinct free ports, one per argument name: swift_ports VAR...
swift_ports() {
  local var p used=" "
  for var in "$@"; do
    p=$(free_port)
    while [[ "$used" == *" $p "* ]]; do p=$(free_port); done
    used="$used$p "
    printf -v "$var" '%s' "$p"
  done
}

# The [DEFAULT] section every Swift server shares: loopback, one process,
# no mount checks, no fallocate reserve, DIR/etc as swift_dir.
swift_default_section() {
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
bind_timeout = 2
workers = 0
user = $(id -un)
swift_dir = $dir/etc
devices = $dir/data
mount_check = false
disable_fallocate = true
fallocate_reserve = 0
log_level = INFO
EOF
}

swift_write_configs() {
  local account_port=$1 container_port=$2 object_port=$3 memcache_port=$4
  (
    umask 077
    cat >"$dir/etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = ailee-test
swift_hash_path_suffix = ailee-test

[storage-policy:0]
name = Policy-0
default = yes
EOF
    local srv port
    for srv in account container object; do
      port=${srv}_port
      { swift_default_section "${!port}"
        cat <<EOF

[pipeline:main]
pipeline = $srv-server

[app:$srv-server]
use = egg:swift#$srv
EOF
      } >"$dir/etc/$srv-server.conf"
    done
    # s3api must come before tempauth; slo after s3api enables multipart.
    { swift_default_section "$S3_PORT"
      cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:s3api]
use = egg:swift#s3api
location = $S3_REGION

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $S3_SECRET_KEY .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$memcache_port

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
EOF
    } >"$dir/etc/proxy-server.conf"
  )
}

# swift_start DEADLINE: starts everything, waits for a signed S3 answer.
swift_start() {
  local deadline=$1 account_port container_port object_port memcache_port srv port
  swift_ports S3_PORT account_port container_port object_port memcache_port
  S3_ACCESS_KEY=test:tester
  S3_SECRET_KEY=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  swift_write_configs "$account_port" "$container_port" "$object_port" "$memcache_port"
  mkdir -p "$dir/data/d1"
  "$PY" "$HERE/swift_server.py" rings "$dir/etc" d1 "$account_port" "$container_port" "$object_port" \
    >>"$dir/log/rings.log" 2>&1 || { log "building the rings failed"; return 1; }

  local as_root=()
  [ "$(id -u)" -eq 0 ] && as_root=(-u root)  # memcached refuses root without -u
  spawn memcached memcached -l 127.0.0.1 -p "$memcache_port" -U 0 -m 16 -c 256 "${as_root[@]}" \
    -P "$dir/run/memcached.self.pid"  # also puts DIR in its argv, which pid_ours checks
  for srv in account container object proxy; do
    spawn "$srv" "$PY" "$HERE/swift_server.py" serve "$dir/etc" "$srv-server" "$dir/etc/$srv-server.conf"
  done

  # Every server answers HTTP, then one signed S3 request goes through.
  for port in "$account_port" "$container_port" "$object_port" "$S3_PORT"; do
    until [ "$(http_code "http://127.0.0.1:$port/healthcheck")" != 000 ]; do
      all_alive || { log "a Swift process exited during start-up"; return 1; }
      [ "$(now)" -lt "$deadline" ] || { log "nothing answers on port $port"; return 1; }
      sleep 0.2
    done
  done
  until s3_answers; do
    all_alive || { log "a Swift process exited during start-up"; return 1; }
    [ "$(now)" -lt "$deadline" ] || { log "no signed S3 answer (see log/probe.log)"; return 1; }
    sleep 0.5
  done
}
