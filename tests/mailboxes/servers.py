"""A real Dovecot (IMAP and POP3) for the tests, started from a generated configuration."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

PASSWORD = "right-password"
USERS = 200
DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
# A failed login answers at once (default 2 s): the bad-password test stays fast.
auth_failure_delay = 0
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


# Tokens checked at the test's OAuth provider (RFC 7662 introspection) for XOAUTH2 and
# OAUTHBEARER; the user name is the introspection's "username", which must be the one
# the client signs in as.
OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}
"""
OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""

SSL_ON = """\
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
"""


def _make_certificate(root: Path) -> bool:
    """A self-signed certificate for 127.0.0.1; False when openssl is not installed."""
    openssl = shutil.which("openssl")
    if not openssl:
        return False
    subprocess.run(  # noqa: S603 - the installed openssl with fixed arguments
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _mail_owner() -> tuple[int, int]:
    # Dovecot never gives mail access to uid 0, so a test run as root uses nobody.
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("dovecot exited:\n" + (log.read_text() if log.exists() else ""))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {port} within {timeout} s")


@dataclass
class Dovecot:
    """One running server; every test gets its own user (and so its own empty maildir)."""

    root: Path
    imap_port: int
    pop3_port: int
    process: subprocess.Popen
    # Implicit-TLS ports and the certificate to trust, or None without openssl.
    imaps_port: int | None = None
    pop3s_port: int | None = None
    certificate: Path | None = None
    users: int = 0
    # Users are user<n>@<domain> when set (an OAuth account is an address), else user<n>.
    domain: str = ""

    host = "127.0.0.1"

    def add_user(self) -> str:
        # Users are made up front: Dovecot re-reads passwd-file by mtime, which has a
        # one-second resolution, so users added while it runs may not log in.
        self.users += 1
        assert self.users <= USERS, "raise USERS in tests/mailboxes/servers.py"
        return user_name(self.users, self.domain)

    def imap(self, username: str, password: str = PASSWORD) -> IMAPClient:
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=10)
        client.login(username, password)
        return client

    def append(self, username: str, *messages: bytes, folder: str = "INBOX") -> None:
        """Deliver messages the way a mail server would: APPEND, not seen."""
        with self.imap(username) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for message in messages:
                client.append(folder, message)

    def restart(self) -> None:
        """Stop the server (its clients see their connections drop) and start it again on
        the same ports, with the same users and mail."""
        assert DOVECOT
        self.process.terminate()
        self.process.wait(timeout=10)
        with open(self.root / "stdout.log", "ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the installed dovecot, our config
                [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.imap_port, self.process, self.root / "dovecot.log")
        _wait_for_port(self.pop3_port, self.process, self.root / "dovecot.log")
        (self.root / "run" / "anvil-auth-penalty").unlink(missing_ok=True)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def user_name(number: int, domain: str = "") -> str:
    return f"user{number}@{domain}" if domain else f"user{number}"


def start_dovecot(*, oauth2_introspection_url: str = "", domain: str = "") -> Dovecot:
    """A running Dovecot; with ``oauth2_introspection_url`` it also takes XOAUTH2 and
    OAUTHBEARER, checking tokens at that RFC 7662 endpoint."""
    assert DOVECOT, "dovecot is not installed"
    # Not under pytest's 0700 tmp: Dovecot's unprivileged processes must reach these.
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)
    uid, gid = _mail_owner()
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir(mode=0o755)
    for name in ("mail", "home"):
        os.chown(root / name, uid, gid)
    (root / "passwd").write_text(
        "".join(f"{user_name(n, domain)}:{PASSWORD}::::::\n" for n in range(1, USERS + 1))
    )
    (root / "passwd").chmod(0o644)
    imap_port, pop3_port = free_port(), free_port()
    tls = _make_certificate(root)
    imaps_port, pop3s_port = (free_port(), free_port()) if tls else (0, 0)
    mechanisms, oauth2_passdb = "plain login", ""
    if oauth2_introspection_url:
        mechanisms = "plain login xoauth2 oauthbearer"
        oauth2_passdb = OAUTH2_PASSDB.format(root=root)
        (root / "dovecot-oauth2.conf.ext").write_text(
            OAUTH2_CONF.format(url=oauth2_introspection_url)
        )
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            uid=uid,
            gid=gid,
            imap_port=imap_port,
            pop3_port=pop3_port,
            imaps_port=imaps_port,
            pop3s_port=pop3s_port,
            ssl=SSL_ON.format(root=root) if tls else "ssl = no",
            mechanisms=mechanisms,
            oauth2_passdb=oauth2_passdb,
        )
    )
    log = root / "dovecot.log"
    with open(root / "stdout.log", "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the installed dovecot, our config
            [DOVECOT, "-F", "-c", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(imap_port, process, log)
        _wait_for_port(pop3_port, process, log)
        # Without anvil's penalty socket the auth process disables the growing delay
        # after failed logins (all tests log in from 127.0.0.1, so it would add up).
        (root / "run" / "anvil-auth-penalty").unlink(missing_ok=True)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Dovecot(
        root=root,
        imap_port=imap_port,
        pop3_port=pop3_port,
        process=process,
        imaps_port=imaps_port or None,
        pop3s_port=pop3s_port or None,
        certificate=root / "cert.pem" if tls else None,
        domain=domain,
    )


def dovecot_version() -> str:
    if not DOVECOT:
        return ""
    return subprocess.run(  # noqa: S603
        [DOVECOT, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
