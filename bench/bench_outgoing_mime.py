"""CPU to build and write out one outgoing mail: Django's builder against ``mailboxes.mime``.

Usage (from the repository root; no database):

    .venv/bin/python bench/bench_outgoing_mime.py [--mails 2000]

Three shapes: an auto-reply (text and HTML), an agent's notification (text only), and a
reply (text, HTML and a 150 kB PDF). For each, the mail is built from
the same Django ``EmailMultiAlternatives`` data and turned into the bytes a mail backend
sends: Django's own ``message(policy=SMTP).as_bytes()`` (email.policy, which parses and
refolds each header) and the outbox's ``_ReplyEmail.message().as_bytes()`` (the classic
email.mime classes). Prints milliseconds per mail, the median of five rounds.
"""

import argparse
import os
import statistics
import sys
import time
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

TEXT = "Olá Customer 12,\n\nRecebemos a sua mensagem e abrimos o chamado [#12345].\n" * 3
HTML = "<html><body><p>" + TEXT.replace("\n", "<br>") + "</p></body></html>"
HEADERS = {
    "Message-ID": "<abc.123@helpdesk.test>",
    "In-Reply-To": "<x.1@example.com>",
    "References": "<x.1@example.com>",
    "Auto-Submitted": "auto-replied",
    "X-Auto-Response-Suppress": "All",
}


def _mail(cls, shape):
    mail = cls(
        subject="Re: Fatura em duplicidade [#12345]",
        body=TEXT,
        from_email="Suporte Ação <support@helpdesk.test>",
        to=["customer12@example.com"],
        reply_to=["support+t123@helpdesk.test"],
        headers=HEADERS,
    )
    if shape != "notification":
        mail.attach_alternative(HTML, "text/html")
    if shape == "reply":
        mail.attach("invoice.pdf", os.urandom(150_000), "application/pdf")
    return mail


def _time(cls, shape, count) -> float:
    rounds = []
    for _round in range(5):
        started = time.process_time()
        for _ in range(count):
            message = _mail(cls, shape).message(policy=policy.SMTP)
            message.as_bytes()
        rounds.append((time.process_time() - started) * 1000 / count)
    return statistics.median(rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.mail import EmailMultiAlternatives

    from mailboxes.outbound import _ReplyEmail

    print(f"{'shape':14}{'Django (ms)':>14}{'mailboxes.mime (ms)':>22}")
    for shape in ("auto-reply", "notification", "reply"):
        count = args.mails if shape != "reply" else max(args.mails // 10, 50)
        django_ms = _time(EmailMultiAlternatives, shape, count)
        ours_ms = _time(_ReplyEmail, shape, count)
        print(f"{shape:14}{django_ms:>14.3f}{ours_ms:>22.3f}")


if __name__ == "__main__":
    main()
