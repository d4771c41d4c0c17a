from django import template

register = template.Library()


@register.filter
def display_name(user, empty="—"):
    """A person's full name, else their user name, else ``empty``."""
    if not user:
        return empty
    return user.get_full_name() or user.get_username()
