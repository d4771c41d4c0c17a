from django import template

register = template.Library()


@register.filter
def display_name(user, empty="—"):
    """A person's full name, else their user name, else ``empty``."""
    if not user:
        return empty
    return user.get_full_name() or user.get_username()


@register.inclusion_tag("tickets/sort_header.html", takes_context=True)
def sort_header(context, key, label):
    """A column header that sorts the queue by ``key``, toggling the direction."""
    query = context["request"].GET.copy()
    current = query.get("ordering", "")
    query["ordering"] = f"-{key}" if current == key else key
    query.pop("page", None)
    direction = "asc" if current == key else "desc" if current == f"-{key}" else ""
    return {"label": label, "query": query.urlencode(), "direction": direction}
