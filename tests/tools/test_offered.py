"""The tools offered to a user are computed on the server from the admin's choices, and
named for the model in OpenAI's alphabet; a name that was not offered finds nothing."""

import pytest
from django.contrib.auth.models import Group

from chat.models import McpServer, McpTool
from chat.services.tools.offered import tool_called, tools_for_request, tools_offered

pytestmark = pytest.mark.django_db


@pytest.fixture
def server() -> McpServer:
    return McpServer.objects.create(slug="time", name="Time", stdio="time")


def tool(server: McpServer, name: str, **fields) -> McpTool:
    return McpTool.objects.create(
        server=server, name=name, input_schema={"type": "object"}, **fields
    )


def test_only_enabled_tools_chosen_for_the_user_or_their_group_are_offered(server, alice, bob):
    mine = tool(server, "get_current_time", enabled=True)
    mine.users.add(alice)
    ours = tool(server, "convert_time", enabled=True)
    group = Group.objects.create(name="Research")
    group.user_set.add(alice)
    ours.groups.add(group)
    off = tool(server, "disabled", enabled=False)
    off.users.add(alice)
    tool(server, "nobody_s", enabled=True)

    assert [t.name for t in tools_offered(alice)] == ["convert_time", "get_current_time"]
    assert tools_offered(bob) == []


def test_a_disabled_server_offers_nothing(server, alice):
    tool(server, "get_current_time", enabled=True).users.add(alice)
    McpServer.objects.filter(pk=server.pk).update(enabled=False)
    assert tools_offered(alice) == []


def test_names_are_made_safe_for_the_model_and_found_again(server, alice):
    dotted = tool(server, "files.read" + "x" * 80, enabled=True)
    plain = tool(server, "get_current_time", enabled=True)

    parameter, offered = tools_for_request([dotted, plain])

    names = [p["function"]["name"] for p in parameter]
    assert all(len(n) <= 64 and n.replace("_", "a").replace("-", "a").isalnum() for n in names)
    assert names[1] == "time__get_current_time"
    assert tool_called(offered, names[0]).tool_id == dotted.pk
    assert tool_called(offered, "time__rm_rf") is None


def test_two_tools_whose_safe_names_would_be_one_are_named_apart(server):
    dotted = tool(server, "files.read", enabled=True)
    underscored = tool(server, "files_read", enabled=True)

    parameter, offered = tools_for_request([dotted, underscored])

    names = [p["function"]["name"] for p in parameter]
    assert names == ["time__files_read", f"time__files_read_{underscored.pk}"]
    assert tool_called(offered, names[0]).tool_id == dotted.pk
    assert tool_called(offered, names[1]).tool_id == underscored.pk
