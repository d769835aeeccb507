# shellcheck shell=bash
# Ceph radosgw, sourced by s3-server.sh. (in progress)
ceph_default_timeout() { echo 120; }
ceph_check_packages() { die "ceph: not implemented yet"; }
ceph_start() { return 1; }
