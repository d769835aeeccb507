#!/usr/bin/python3
"""Runs one Swift WSGI server, or builds the rings, from a private config dir.

Used by tests/s3/swift.sh only. Two things the stock swift-*-server scripts
cannot do:

- read swift.conf (hash path prefix/suffix, storage policies) from our own
  directory: Swift hard-codes /etc/swift/swift.conf and only recon lets it be
  moved (utils.set_swift_dir);
- log to stderr instead of syslog: Swift logs to /dev/log, or to UDP
  localhost:514 when /dev/log is missing, and neither lands under our dir.
  We replace its syslog handler class, so every log line reaches stderr,
  which the caller sends to <dir>/log/<server>.log.

  swift_server.py rings ETC_DIR DEVICE ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT
  swift_server.py serve ETC_DIR APP_SECTION CONF_FILE
"""
import logging
import os
import sys


class _StderrHandler(logging.StreamHandler):
    """Stands in for Swift's ThreadSafeSysLogHandler (same constructor args)."""

    def __init__(self, *args, **kwargs):
        super().__init__(sys.stderr)


def use_private_swift_dir(etc_dir):
    from swift.common import constraints, storage_policy, utils
    utils.ThreadSafeSysLogHandler = _StderrHandler
    utils.set_swift_dir(etc_dir)
    # Imported modules read /etc/swift/swift.conf already: read ours instead.
    storage_policy.reload_storage_policies()
    constraints.reload_constraints()


def build_rings(etc_dir, device, ports):
    # One process for all three rings: swift-ring-builder costs a Python
    # start-up (about a second) per call, nine calls in all.
    from swift.common.ring import RingBuilder
    for name, port in zip(("account", "container", "object"), ports):
        builder = RingBuilder(3, 1, 0)  # 8 partitions, 1 replica, no min hours
        builder.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1",
                         "port": int(port), "device": device, "weight": 1.0})
        builder.rebalance()
        builder.save(os.path.join(etc_dir, name + ".builder"))
        builder.get_ring().save(os.path.join(etc_dir, name + ".ring.gz"))


def main(argv):
    if len(argv) == 7 and argv[1] == "rings":
        build_rings(argv[2], argv[3], argv[4:7])
        return 0
    if len(argv) == 5 and argv[1] == "serve":
        use_private_swift_dir(argv[2])
        from swift.common.wsgi import run_wsgi
        return run_wsgi(argv[4], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
