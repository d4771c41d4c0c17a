"""Events of the SLA clocks, for the apps below (webhooks). Sent after commit, robustly.

Like the ticket events they carry lists: one sweep round announces every reminder and
every breach it recorded at once; a receiver that fails is logged and stops nothing.
"""

from django.dispatch import Signal

deadlines_reminded = Signal()  # deadlines (list of Deadline, with ``ticket``): due soon
deadlines_breached = Signal()  # deadlines (list of Deadline, with ``ticket``): missed
