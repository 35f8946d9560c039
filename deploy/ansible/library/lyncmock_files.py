#!/usr/bin/python3
# One module run writes all of a host's lyncmock files (scenario, CA, its own
# certificate and key): four copy tasks cost four stat+transfer+module rounds
# per host, which dominates a 50-host run.
"""Write several small files atomically, each with its own mode and owner."""

DOCUMENTATION = r"""
module: lyncmock_files
short_description: Write a host's lyncmock scenario and PKI files in one go
description:
  - Writes each file atomically (temporary file in the same directory, then
    rename) when its content, mode or owner differs; supports check mode.
options:
  files:
    description:
      - List of {dest, content, mode, owner, group}, or {dest, state=absent}
        to remove a file (teardown).
    type: list
    elements: dict
    required: true
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule


def needs_write(f):
    try:
        st = os.stat(f["dest"])
        with open(f["dest"], "rb") as fh:
            same = fh.read() == f["content"].encode()
    except FileNotFoundError:
        return True
    uid = pwd.getpwnam(f["owner"]).pw_uid
    gid = grp.getgrnam(f["group"]).gr_gid
    return not same or (st.st_mode & 0o7777) != int(f["mode"], 8) or st.st_uid != uid or st.st_gid != gid


def write(f):
    d = os.path.dirname(f["dest"])
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".lyncmock-")
    try:
        os.fchmod(fd, int(f["mode"], 8))
        os.fchown(fd, pwd.getpwnam(f["owner"]).pw_uid, grp.getgrnam(f["group"]).gr_gid)
        with os.fdopen(fd, "wb") as fh:
            fh.write(f["content"].encode())
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, f["dest"])
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    module = AnsibleModule(
        argument_spec={"files": {"type": "list", "elements": "dict", "required": True, "no_log": False}},
        supports_check_mode=True,
    )
    changed = []
    try:
        for f in module.params["files"]:
            if f.get("state") == "absent":
                if os.path.lexists(f.get("dest", "")):
                    changed.append(f["dest"])
                    if not module.check_mode:
                        os.unlink(f["dest"])
                continue
            for k in ("dest", "content", "mode", "owner", "group"):
                if k not in f:
                    module.fail_json(msg="file entry without %s" % k)
            if needs_write(f):
                changed.append(f["dest"])
                if not module.check_mode:
                    write(f)
    except (KeyError, OSError) as e:
        module.fail_json(msg="%s: %s" % (type(e).__name__, e), changed_files=changed)
    module.exit_json(changed=bool(changed), changed_files=changed)


if __name__ == "__main__":
    main()
