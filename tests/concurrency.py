"""Run several calls at the same moment, each on its own database connection."""

import threading

from django.db import close_old_connections, connection


def run_at_once(calls, *, timeout=120):
    """Start every call together (a barrier), wait for all, return their results in order.

    Any exception in a call fails the test; each thread closes its own connection.
    """
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    close_old_connections()
    assert errors == []
    return results
