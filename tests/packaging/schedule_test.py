#!/usr/bin/env python3
"""The shipped schedule (packaging/systemd/ailee-job-*, packaging/cron/ailee)
against the runbook and against ailee-cli itself:

- every job has a service and a timer, at the runbook's time, Persistent, with
  a randomized delay, under flock; the cron file runs the same ailee-cli
  command lines at the same times;
- the block archiver runs as a long-running service (ailee-archive.service,
  restarted on failure, enabled into multi-user.target) and, on cron hosts,
  from a per-minute line under the same flock that starts it when it is not
  running;
- every ailee-cli command line parses: each subcommand exists (its --help
  answers with its own usage line) and each flag is one that subcommand has;
- the units may write where the example config puts data, logs and the
  repository (ReadWritePaths), and the logrotate rule keeps 90 days and never
  matches the audit log;
- the node may write SoftHSM's token directory (a PKCS#11 signer);
- a run of the state backup while another holds its lock is skipped (75);
- every flock file is in /run/ailee (ailee's own, made by tmpfiles.d and on
  cron hosts by an @reboot line), never the shared /run/lock where another
  user could plant a job's lock file first.

usage: schedule_test.py SOURCE_DIR AILEE_CLI
       schedule_test.py --self-test SOURCE_DIR AILEE_CLI   (plants mistakes, each must be caught)
"""
import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

# job: (systemd OnCalendar, cron "m h dom mon dow"), from BACKUP_RECOVERY.md
# "Backup Schedule" plus the hourly logs archive (at :05, after a
# logrotate run at :00 has had time to finish) and the monthly drill
# (issue 12; the runbook's test schedule asks for recovery tests).
SCHEDULE = {
    "backup-state": ("*:0/15", "*/15 * * * *"),
    "backup-full": ("*-*-* 02:00:00", "0 2 * * *"),
    "config-backup": ("*-*-* 03:00:00", "0 3 * * *"),
    "verify": ("*-*-* 04:00:00", "0 4 * * *"),
    "keys-verify": ("Sun *-*-* 01:00:00", "0 1 * * 0"),
    "logs-archive": ("*-*-* *:05:00", "5 * * * *"),
    "drill": ("*-*-01 05:00:00", "0 5 1 * *"),
}
# The block archiver is no timer: a long-running service, and on cron hosts a
# per-minute start that its flock makes a no-op while one runs.
ARCHIVER_UNIT = "ailee-archive.service"
ARCHIVER = ("service", "* * * * *")
# The flock files' directory: ailee's own (packaging/tmpfiles/ailee.conf).
LOCK_DIR = "/run/ailee"


def read_ini(path):
    """systemd unit -> {section: [(key, value)]}."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                out.setdefault(section, [])
            else:
                key, _, value = line.partition("=")
                out[section].append((key.strip(), value.strip()))
    return out


def values(ini, section, key):
    return [v for k, v in ini.get(section, []) if k == key]


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                env[k] = v
    return env


def expand(word, env, errors, where):
    def sub(m):
        name = m.group(1) or m.group(2)
        if name not in env:
            errors.append(f"{where}: ${name} is not set in jobs.env")
            return ""
        return env[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, word)


def cli_argv(words, where, errors):
    """The ailee-cli arguments of a command line after flock ... ailee-cli."""
    names = [os.path.basename(w) for w in words]
    if "ailee-cli" not in names:
        errors.append(f"{where}: no ailee-cli in {' '.join(words)}")
        return None
    i = names.index("ailee-cli")
    for w in words[:i]:
        if w.endswith(".lock") and not w.startswith(LOCK_DIR + "/"):
            errors.append(f"{where}: lock file {w} is not in {LOCK_DIR} (another user could create it first)")
    if "flock" not in names[:i]:
        errors.append(f"{where}: ailee-cli is not run under flock")
    else:
        f = names.index("flock")
        opts = words[f + 1:i]
        if not ({"-n", "-w"} & set(opts)):
            errors.append(f"{where}: flock without -n or -w would queue runs without bound")
    return tuple(words[i + 1:])


def systemd_jobs(unit_dir, env, errors):
    jobs = {}
    services = {f[len("ailee-job-"):-len(".service")] for f in os.listdir(unit_dir)
                if f.startswith("ailee-job-") and f.endswith(".service")}
    timers = {f[len("ailee-job-"):-len(".timer")] for f in os.listdir(unit_dir)
              if f.startswith("ailee-job-") and f.endswith(".timer")}
    if services != timers:
        errors.append(f"services without timers or timers without services: {sorted(services ^ timers)}")
    if services != set(SCHEDULE):
        errors.append(f"systemd jobs {sorted(services)} differ from the runbook's {sorted(SCHEDULE)}")
    for job in sorted(services & timers):
        svc = read_ini(os.path.join(unit_dir, f"ailee-job-{job}.service"))
        tim = read_ini(os.path.join(unit_dir, f"ailee-job-{job}.timer"))
        argv = unit_argv(svc, f"ailee-job-{job}.service", env, errors)
        cal = values(tim, "Timer", "OnCalendar")
        want = SCHEDULE.get(job, (None,))[0]
        if cal != [want]:
            errors.append(f"ailee-job-{job}.timer: OnCalendar {cal}, the runbook says {want}")
        if values(tim, "Timer", "Persistent") != ["true"]:
            errors.append(f"ailee-job-{job}.timer: not Persistent=true")
        if not values(tim, "Timer", "RandomizedDelaySec"):
            errors.append(f"ailee-job-{job}.timer: no RandomizedDelaySec")
        if values(tim, "Install", "WantedBy") != ["timers.target"]:
            errors.append(f"ailee-job-{job}.timer: not WantedBy=timers.target")
        if argv is not None:
            jobs[argv] = cal[0] if cal else None
    archiver_unit(unit_dir, env, errors, jobs)
    return jobs


def unit_argv(svc, where, env, errors):
    """The ailee-cli arguments of a service's one ExecStart, or None."""
    execs = values(svc, "Service", "ExecStart")
    if len(execs) != 1:
        errors.append(f"{where}: {len(execs)} ExecStart lines, want 1")
        return None
    words = [expand(w, env, errors, where) for w in shlex.split(execs[0])]
    return cli_argv(words, where, errors)


def archiver_unit(unit_dir, env, errors, jobs):
    path = os.path.join(unit_dir, ARCHIVER_UNIT)
    if not os.path.exists(path):
        errors.append(f"no {ARCHIVER_UNIT}: nothing runs the block archiver")
        return
    svc = read_ini(path)
    argv = unit_argv(svc, ARCHIVER_UNIT, env, errors)
    if argv is not None and argv[-2:] != ("archive", "run"):
        errors.append(f"{ARCHIVER_UNIT}: runs {' '.join(argv)}, not archive run")
    for key, want in (("Type", "simple"), ("User", "ailee"), ("Restart", "on-failure"),
                      ("NoNewPrivileges", "true")):
        if values(svc, "Service", key) != [want]:
            errors.append(f"{ARCHIVER_UNIT}: {key} is not {want}")
    if not values(svc, "Service", "RestartSec"):
        errors.append(f"{ARCHIVER_UNIT}: no RestartSec (a failing archiver would restart in a tight loop)")
    if values(svc, "Install", "WantedBy") != ["multi-user.target"]:
        errors.append(f"{ARCHIVER_UNIT}: not WantedBy=multi-user.target")
    if "ailee-node.service" not in " ".join(values(svc, "Unit", "After")):
        errors.append(f"{ARCHIVER_UNIT}: not ordered after ailee-node.service")
    if argv is not None:
        jobs[argv] = ARCHIVER[0]


def cron_jobs(cron_file, env, errors):
    jobs = {}
    reboot = []
    with open(cron_file) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#") or re.match(r"^\w+=", line):
                continue
            where = f"cron line {n}"
            if line.startswith("@reboot"):
                reboot.append(line)
                continue
            fields = line.split(None, 6)
            if len(fields) < 7 or fields[5] != "ailee":
                errors.append(f"{where}: not '<5 time fields> ailee <command>': {line}")
                continue
            command = fields[6]
            if "%" in command:
                errors.append(f"{where}: cron turns % into a newline")
            if not command.startswith("[ -d /run/systemd/system ] ||"):
                errors.append(f"{where}: runs on systemd hosts too (the timers own the schedule there)")
            # The ailee-cli part: from flock to the end of its simple command.
            part = command[command.index("flock"):] if "flock" in command else command
            part = re.split(r";|\}|&&|\|\|", part)[0]
            words = [expand(w, env, errors, where) for w in shlex.split(part)]
            argv = cli_argv(words, where, errors)
            if argv is not None:
                jobs[argv] = " ".join(fields[:5])
    # Without systemd nothing reads tmpfiles.d: root makes the lock dir at boot.
    want = f"@reboot root [ -d /run/systemd/system ] || install -d -o ailee -g ailee -m 0750 {LOCK_DIR}"
    if reboot != [want]:
        errors.append(f"cron: the @reboot lines {reboot} are not [{want!r}]: no lock dir after a reboot")
    return jobs


def check_cli(argv, cli, where, errors, cache):
    """Subcommands exist and every flag belongs to them (from --help)."""
    def helptext(path):
        key = tuple(path)
        if key not in cache:
            # argv[0] "ailee-cli": the usage lines name the program as invoked.
            r = subprocess.run(["ailee-cli", *path, "--help"], executable=cli, capture_output=True, text=True,
                               timeout=60)
            cache[key] = (r.returncode, r.stdout)
        return cache[key]

    i, path = 0, []
    global_help = helptext([])[1]
    while i < len(argv) and argv[i].startswith("-"):  # global flags before the subcommand
        flag = argv[i].split("=")[0]
        if not re.search(r"(^|[\s,])" + re.escape(flag) + r"\b", global_help):
            errors.append(f"{where}: ailee-cli has no global flag {flag}")
        i += 1
    while i < len(argv) and not argv[i].startswith("-"):
        rc, text = helptext(path + [argv[i]])
        if rc != 0 or f"Usage: ailee-cli {' '.join(path + [argv[i]])}" not in text:
            break  # a positional argument, or an unknown subcommand (checked below)
        path.append(argv[i])
        i += 1
    if not path:
        errors.append(f"{where}: ailee-cli has no subcommand {argv[i] if i < len(argv) else '(none)'}")
        return
    rc, text = helptext(path)
    if "Subcommands:" in text:
        errors.append(f"{where}: 'ailee-cli {' '.join(path)}' needs a subcommand")
    for word in argv[i:]:
        if word.startswith("-"):
            flag = word.split("=")[0]
            if not re.search(r"(^|[\s,])" + re.escape(flag) + r"\b", text):
                errors.append(f"{where}: 'ailee-cli {' '.join(path)}' has no flag {flag}")


def example_paths(src):
    """The example config's writable locations."""
    text = open(os.path.join(src, "packaging/config.example.yaml")).read()
    out = []
    # The signer key's directory: the node writes the signing fence there.
    for key in ("data_dir", "log_file", "audit_log", "key_file"):
        m = re.search(rf"^\s*{key}:\s*(\S+)", text, re.M)
        out.append(m.group(1) if key == "data_dir" else os.path.dirname(m.group(1)))
    m = re.search(r"^\s*repository:\s*file://(\S+)", text, re.M)
    if m:
        out.append(m.group(1))
    return out


def check_write_paths(src, errors):
    unit_dir = os.path.join(src, "packaging/systemd")
    need = example_paths(src)
    for unit, paths_need in (("ailee-node.service", need[:4]),
                             ("ailee-job-.service.d/10-hardening.conf", need),
                             (ARCHIVER_UNIT, need)):
        if not os.path.exists(os.path.join(unit_dir, unit)):
            continue  # reported by archiver_unit
        ini = read_ini(os.path.join(unit_dir, unit))
        rw = [p.lstrip("-") for v in values(ini, "Service", "ReadWritePaths") for p in v.split()]
        if values(ini, "Service", "ProtectSystem") != ["strict"]:
            errors.append(f"{unit}: not ProtectSystem=strict")
        for p in paths_need:
            if not any(p == r or p.startswith(r.rstrip("/") + "/") for r in rw):
                errors.append(f"{unit}: the example config writes {p}, ReadWritePaths {rw} do not allow it")
    # A SoftHSM signer: SoftHSM writes its lock files in the token directory.
    node_rw = [p for v in values(read_ini(os.path.join(unit_dir, "ailee-node.service")), "Service", "ReadWritePaths")
               for p in v.split()]
    if "-/var/lib/softhsm/tokens" not in node_rw:
        errors.append(f"ailee-node.service: SoftHSM's token dir is not in ReadWritePaths {node_rw} (a PKCS#11 signer "
                      "could not sign)")
    hard = read_ini(os.path.join(unit_dir, "ailee-job-.service.d/10-hardening.conf"))
    # Every job writes its metrics into the textfile directory docs/metrics.md
    # wires up; under ProtectSystem=strict a directory not listed is read-only
    # and every job's metrics would be a warning nobody reads.
    metrics = re.search(r"^\s*textfile_dir:\s*(\S+)", open(os.path.join(src, "docs/metrics.md")).read(), re.M)
    rw = [p.lstrip("-") for v in values(hard, "Service", "ReadWritePaths") for p in v.split()]
    if not metrics:
        errors.append("docs/metrics.md names no textfile_dir")
    elif not any(metrics.group(1) == r or metrics.group(1).startswith(r.rstrip("/") + "/") for r in rw):
        errors.append(f"10-hardening.conf: the metrics directory {metrics.group(1)} (docs/metrics.md) "
                      f"is not in ReadWritePaths {rw}")
    for key, want in (("Type", "oneshot"), ("User", "ailee"), ("NoNewPrivileges", "true"),
                      ("IOSchedulingClass", "idle")):
        if values(hard, "Service", key) != [want]:
            errors.append(f"10-hardening.conf: {key} is not {want}")
    if not values(hard, "Service", "Nice"):
        errors.append("10-hardening.conf: no Nice")


def check_lock_dir(src, errors):
    path = os.path.join(src, "packaging/tmpfiles/ailee.conf")
    lines = [l.split() for l in open(path) if l.strip() and not l.startswith("#")] if os.path.exists(path) else []
    if ["d", LOCK_DIR, "0750", "ailee", "ailee", "-"] not in lines:
        errors.append(f"tmpfiles.d/ailee.conf does not create {LOCK_DIR} 0750 ailee:ailee: {lines}")
    unit_dir = os.path.join(src, "packaging/systemd")
    for unit in ("ailee-job-.service.d/10-hardening.conf", ARCHIVER_UNIT):
        if not os.path.exists(os.path.join(unit_dir, unit)):
            continue
        rw = [p for v in values(read_ini(os.path.join(unit_dir, unit)), "Service", "ReadWritePaths") for p in v.split()]
        if LOCK_DIR not in rw:
            errors.append(f"{unit}: the lock dir {LOCK_DIR} is not in ReadWritePaths {rw}")
        if any(p.lstrip("-").startswith("/run/lock") for p in rw):
            errors.append(f"{unit}: writes the shared /run/lock ({rw}), which holds no lock of ours")


def check_logrotate(src, errors):
    text = open(os.path.join(src, "packaging/logrotate/ailee")).read()
    body = re.sub(r"#.*", "", text)
    head = body[:body.index("{")].split()
    names = lambda n: any(fnmatch.fnmatch(f"/var/log/ailee/{n}", g) for g in head)
    for n in ("node.log", "backup.log", "ailee-jobs.log", "alerts.log"):
        if not names(n):
            errors.append(f"logrotate: {n} is not rotated")
    if names("audit.log"):
        errors.append("logrotate: the audit log would be rotated (its hash chain cut)")
    period = re.search(r"^\s*(hourly|daily|weekly)\s*$", body, re.M)
    keep = re.search(r"^\s*rotate\s+(\d+)", body, re.M)
    per_day = {"hourly": 24, "daily": 1, "weekly": 1 / 7}
    if not period or not keep or int(keep.group(1)) / per_day[period.group(1)] != 90:
        errors.append("logrotate: does not keep 90 days online")
    audit = re.search(r"^/var/log/ailee/audit\.log\s*\{(.*?)\}", body, re.M | re.S)
    if not audit:
        errors.append("logrotate: the audit log is not rotated (docs/audit-log.md, Rotation)")
    else:
        opts = audit.group(1).split()
        if "copytruncate" in opts:
            errors.append("logrotate: copytruncate on the audit log loses the lines appended between copy and truncate")
        for want in ("create", "delaycompress", "notifempty"):
            if want not in opts:
                errors.append(f"logrotate: the audit log's rule has no {want} (its chain continues from audit.log.1)")
        keep = re.search(r"rotate\s+(\d+)", audit.group(1))
        if "daily" not in opts or not keep or int(keep.group(1)) != 90:
            errors.append("logrotate: does not keep the audit log 90 days online")
    script = re.search(r"postrotate\n(.*?)endscript", text, re.S)
    kills = [l for l in (script.group(1).splitlines() if script else [])
             if "kill" in l and not l.strip().startswith("#")]
    if not kills or any("HUP" not in l for l in kills):
        errors.append("logrotate: postrotate does not send the node SIGHUP (and only SIGHUP) to reopen its log")
    elif subprocess.run(["sh", "-n", "-c", script.group(1)]).returncode != 0:
        errors.append("logrotate: postrotate is not valid sh")


def check_cron_syntax(src, errors):
    with open(os.path.join(src, "packaging/cron/ailee")) as f:
        for n, line in enumerate(f, 1):
            fields = line.strip().split(None, 2 if line.startswith("@") else 6)
            if len(fields) in (3, 7) and not line.startswith("#"):
                r = subprocess.run(["sh", "-n", "-c", fields[-1]], capture_output=True, text=True)
                if r.returncode != 0:
                    errors.append(f"cron line {n}: not valid sh: {r.stderr.strip()}")


def check_no_overlap(src, errors):
    """Two runs of the state backup at once, one from its systemd unit and one
    from its cron line (a timer run and a manual or cron run): the second is
    skipped with 75 while the first holds the lock, and ailee-cli runs once.
    System paths are moved into a scratch dir; ailee-cli is a stand-in that
    records its start and sleeps."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "ailee-cli")
        runs = os.path.join(tmp, "runs")
        with open(fake, "w") as f:
            f.write(f"#!/bin/sh\necho \"$*\" >> {runs}\nsleep 2\n")
        os.chmod(fake, 0o755)
        config = os.path.join(tmp, "config.yaml")
        open(config, "w").close()

        def moved(text):
            return (text.replace(LOCK_DIR + "/", tmp + "/").replace("/run/systemd/system", tmp + "/no-systemd")
                    .replace("/etc/ailee/config.yaml", config).replace("/usr/bin/ailee-cli", fake))
        svc = read_ini(os.path.join(src, "packaging/systemd/ailee-job-backup-state.service"))
        unit_argv = shlex.split(moved(values(svc, "Service", "ExecStart")[0]))
        cron_line = next(l for l in open(os.path.join(src, "packaging/cron/ailee"))
                         if l.startswith("*/15") and "backup state" in l)
        cron_cmd = moved(cron_line.split(None, 6)[6])
        env = dict(os.environ, PATH=tmp + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        first = subprocess.Popen(unit_argv, env=env)
        for _ in range(100):  # until the first run is inside the lock
            if os.path.exists(runs):
                break
            time.sleep(0.05)
        second = subprocess.run(["sh", "-c", cron_cmd], env=env, timeout=30)
        rc_first = first.wait(timeout=30)
        count = len(open(runs).read().splitlines()) if os.path.exists(runs) else 0
        if rc_first != 0 or second.returncode != 75 or count != 1:
            errors.append(f"overlap: unit run exit {rc_first}, cron run during it exit {second.returncode} "
                          f"(want 0 and 75), ailee-cli started {count} times (want 1)")


def run(src, cli):
    errors = []
    env = read_env(os.path.join(src, "packaging/jobs.env"))
    sd = systemd_jobs(os.path.join(src, "packaging/systemd"), env, errors)
    cron = cron_jobs(os.path.join(src, "packaging/cron/ailee"), env, errors)
    if set(sd) != set(cron):
        errors.append("cron and systemd run different command lines:\n  only systemd: "
                      f"{sorted(set(sd) - set(cron))}\n  only cron: {sorted(set(cron) - set(sd))}")
    by_cal = {cal: cr for cal, cr in (*SCHEDULE.values(), ARCHIVER)}
    for argv, cal in sd.items():
        if argv in cron and by_cal.get(cal) != cron[argv]:
            errors.append(f"{' '.join(argv)}: systemd at {cal}, cron at {cron[argv]}")
    cache = {}
    for argv in sorted(set(sd) | set(cron)):
        check_cli(list(argv), cli, "ailee-cli " + " ".join(argv), errors, cache)
    check_write_paths(src, errors)
    check_lock_dir(src, errors)
    check_logrotate(src, errors)
    check_cron_syntax(src, errors)
    return errors


def self_test(src, cli):
    """Each planted mistake must be reported; the shipped files must pass."""
    mistakes = [
        ("packaging/systemd/ailee-job-verify.service", "--read-data", "--read-all"),
        ("packaging/systemd/ailee-job-verify.service", " verify ", " verfy "),
        ("packaging/cron/ailee", "0     4  *", "0     5  *"),
        ("packaging/cron/ailee", "flock -n -E 75 /run/ailee/verify.lock ", ""),
        ("packaging/cron/ailee", "/run/ailee/drill.lock", "/run/lock/ailee-drill.lock"),
        ("packaging/systemd/ailee-job-verify.service", "/run/ailee/verify.lock", "/run/lock/ailee-verify.lock"),
        ("packaging/cron/ailee", "@reboot root", "# @reboot root"),
        ("packaging/tmpfiles/ailee.conf", "0750 ailee ailee", "1777 root root"),
        ("packaging/systemd/ailee-node.service", "ReadWritePaths=-/var/lib/softhsm/tokens", ""),
        ("packaging/systemd/ailee-job-.service.d/10-hardening.conf", " /run/ailee -/var/lib/prometheus", " /run/lock -/var/lib/prometheus"),
        ("packaging/systemd/ailee-job-backup-state.timer", "Persistent=true", "Persistent=false"),
        ("packaging/systemd/ailee-job-.service.d/10-hardening.conf", "/var/lib/ailee ", "/data "),
        ("packaging/logrotate/ailee", "rotate 90", "rotate 7"),
        ("packaging/logrotate/ailee", "--signal=HUP", "--signal=TERM"),
        ("packaging/systemd/ailee-node.service", "ReadWritePaths=/var/lib/ailee ", "ReadWritePaths=/var/lib/ailee/node-1 "),
        ("packaging/logrotate/ailee", "[!a]*.log /var/log/ailee/a[!u]*.log", "*.log"),
        ("packaging/logrotate/ailee", "/var/log/ailee/audit.log {", "/var/log/ailee/audit.log {\n    copytruncate"),
        ("packaging/logrotate/ailee", "/var/log/ailee/audit.log {", "/var/log/ailee/audit.log.old {"),
        ("packaging/jobs.env", "AILEE_SIGNER_ID=", "AILEE_SIGNER="),
        ("packaging/systemd/ailee-job-.service.d/10-hardening.conf", " -/var/lib/prometheus/node-exporter", ""),
        ("packaging/cron/ailee", "ailee-cli --quiet archive run", "true"),
        ("packaging/cron/ailee", "*     *  *", "*/5   *  *"),
        ("packaging/systemd/ailee-archive.service", "Restart=on-failure", "Restart=no"),
        ("packaging/systemd/ailee-archive.service", "ReadWritePaths=/var/lib/ailee ", "ReadWritePaths="),
        ("packaging/systemd/ailee-archive.service", "archive run", "archive status"),
    ]
    failures = 0
    for e in run(src, cli):
        print(f"self-test: the shipped files fail: {e}"); failures += 1
    for rel, old, new in mistakes:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(os.path.join(src, "packaging"), os.path.join(tmp, "packaging"))
            shutil.copytree(os.path.join(src, "docs"), os.path.join(tmp, "docs"))
            path = os.path.join(tmp, rel)
            text = open(path).read()
            if old not in text:
                print(f"self-test: '{old}' not in {rel}: update the self-test"); failures += 1; continue
            open(path, "w").write(text.replace(old, new, 1))
            if not run(tmp, cli):
                print(f"self-test: planting {old!r} -> {new!r} in {rel} was not caught"); failures += 1
    return failures


def main():
    args = sys.argv[1:]
    if args and args[0] == "--self-test":
        src, cli = args[1:]
        failures = self_test(src, cli)
        print("schedule self-test:", "ok" if failures == 0 else f"{failures} mistakes not caught")
        return 1 if failures else 0
    src, cli = args
    errors = run(src, cli)
    check_no_overlap(src, errors)
    for e in errors:
        print("FAIL:", e)
    print("schedule:", "ok" if not errors else f"{len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
