"""How every stored file leaves the helpdesk: as a download, never rendered by the browser."""

from django.http import FileResponse


def download_response(file, *, filename: str, content_type: str = "application/octet-stream"):
    """A file as an attachment under a name of ours, that no browser sniffs or runs.

    Mail and uploads are attacker input: served inline, an HTML or SVG file would run script
    in the reader's session, so it is always an attachment, nosniff, in a script-free sandbox.
    """
    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
