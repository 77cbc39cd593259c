"""Driving the admin like a browser: running an action, reading the changelist."""

from django.contrib.auth.models import Permission
from django.db.models import Model
from django.test import Client

from events.admin import admin_url
from tests.factories import make_user


def act(client: Client, model: type[Model], action: str, objects: list):  # type: ignore[no-untyped-def]
    """Run ``action`` on ``objects`` from the model's changelist."""
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [str(obj.pk) for obj in objects]},
        follow=True,
    )


def shown(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The messages shown to the operator, as (level, text)."""
    assert response.status_code == 200
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def offered(response) -> set[str]:  # type: ignore[no-untyped-def]
    """The actions in the changelist's action menu."""
    assert response.status_code == 200
    form = response.context["action_form"]
    return set() if form is None else {name for name, _ in form.fields["action"].choices if name}


def listed(response) -> set:  # type: ignore[no-untyped-def]
    """The primary keys of the rows on a changelist page."""
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def follow_filter(client: Client, model: type[Model], title: str, choice: str):  # type: ignore[no-untyped-def]
    """Open the changelist, then the link of ``choice`` in its ``title`` filter sidebar."""
    url = admin_url(model, "changelist")
    cl = client.get(url).context["cl"]
    for spec in cl.filter_specs:
        if spec.title == title:
            links = {str(c["display"]): c["query_string"] for c in spec.choices(cl)}
            assert choice in links, links
            return client.get(url + links[choice])
    raise AssertionError(f"no {title!r} filter in {[spec.title for spec in cl.filter_specs]}")


def row(obj) -> dict:  # type: ignore[no-untyped-def]
    """The object's row as stored, to compare before and after."""
    return type(obj).objects.filter(pk=obj.pk).values().get()


def clerk_client(*codenames: str) -> Client:
    """A browser session of a staff user holding only the permissions ``codenames``."""
    user = make_user("clerk")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client
