"""A tool run from the model's call to its record: what is refused before anything runs,
how the rounds are told to the model again, who may choose which tools, and the records
of an answer whose process died."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat import texts
from chat.models import Conversation, McpServer, McpTool, Message, ToolRun
from chat.services.answers.interruptions import streams_interrupt
from chat.services.tools.offered import OfferedTool
from chat.services.tools.runs import tool_rounds_messages, tool_run_new, tool_runs_record

pytestmark = pytest.mark.django_db

ADD = OfferedTool(tool_id=1, function_name="tests__add", approval="auto", label="Tests: add")


def _call(name: str, arguments: str, call_id: str = "call_a") -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _run(name: str = "tests__add", arguments: str = '{"a": 1}', **kwargs):
    return tool_run_new(
        round_number=1, index=0, call=_call(name, arguments), offered=[ADD], content_at=0, **kwargs
    )


def test_a_call_of_an_offered_tool_with_an_object_runs():
    state, arguments = _run()
    assert arguments == {"a": 1}
    assert (state["status"], state["label"], state["tool_id"]) == ("running", "Tests: add", 1)


def test_a_name_that_was_not_offered_is_refused_before_anything_runs():
    state, arguments = _run(name="admin__delete_everything")
    assert arguments is None
    assert state["status"] == "refused"
    assert state["result"] == texts.TOOL_NOT_OFFERED.format(name="admin__delete_everything")
    assert state["tool_id"] is None


@pytest.mark.parametrize("arguments", ['{"a": 1', "[1, 2]", '"text"'])
def test_arguments_that_are_not_a_json_object_are_refused(arguments):
    state, parsed = _run(arguments=arguments)
    assert parsed is None
    assert state["status"] == "refused"
    assert state["result"].startswith("The arguments were not a JSON object")


def test_empty_arguments_are_an_empty_object():
    assert _run(arguments="")[1] == {}


def test_the_rounds_are_told_again_as_calls_then_results_with_the_text_before_each():
    first, _ = _run()
    first = {**first, "status": "done", "result": "2", "content_at": 5}
    second = {**first, "id": "2-0", "round": 2, "call_id": "call_b", "content_at": 9}
    second["status"], second["result"] = "declined", texts.TOOL_DECLINED

    messages = tool_rounds_messages("Let us add.", [first, second])

    assert [(m["role"], m.get("content")) for m in messages] == [
        ("assistant", "Let u"),
        ("tool", "2"),
        ("assistant", "s ad"),
        ("tool", texts.TOOL_DECLINED),
    ]
    assert messages[0]["tool_calls"][0]["function"] == {
        "name": "tests__add",
        "arguments": '{"a": 1}',
    }
    assert messages[3]["tool_call_id"] == "call_b"


@pytest.fixture
def time_tools(alice) -> dict[str, McpTool]:
    server = McpServer.objects.create(slug="time", name="Time", stdio="time")
    mine = McpTool.objects.create(server=server, name="get_current_time", enabled=True)
    mine.users.add(alice)
    team = Group.objects.create(name="Team")
    alice.groups.add(team)
    theirs = McpTool.objects.create(server=server, name="convert_time", enabled=True)
    theirs.groups.add(team)
    off = McpTool.objects.create(server=server, name="secret_tool", enabled=False)
    off.users.add(alice)
    return {"mine": mine, "team": theirs, "off": off}


def _post(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_a_user_chooses_among_the_tools_given_to_her_or_her_groups(alice, time_tools):
    client = Client()
    client.force_login(alice)
    conversation = Conversation.objects.create(user=alice)
    url = reverse("chat:conversation_settings", args=[conversation.pk])

    chosen = [time_tools["mine"].pk, time_tools["team"].pk]
    saved = _post(client, url, {"tools": chosen})
    refused = _post(client, url, {"tools": [time_tools["off"].pk]})
    page = client.get(reverse("chat:conversation", args=[conversation.pk]))

    assert saved.json()["settings"]["tools"] == chosen
    assert refused.json() == {
        "ok": False,
        "errors": {"tools": "A tool you chose is not available to you."},
    }
    conversation.refresh_from_db()
    assert conversation.tool_ids == chosen
    offered = page.context["chat_config"]["tools"]
    assert [t["label"] for t in offered] == ["Time: convert_time", "Time: get_current_time"]


def test_another_user_cannot_choose_her_tools(bob, time_tools):
    client = Client()
    client.force_login(bob)
    response = _post(client, reverse("chat:settings_check"), {"tools": [time_tools["mine"].pk]})
    assert response.json()["errors"] == {"tools": "A tool you chose is not available to you."}


def test_an_answer_whose_process_died_records_its_unfinished_runs_as_cancelled(alice):
    conversation = Conversation.objects.create(user=alice)
    answer = Message.objects.create(
        conversation=conversation, role="assistant", status=Message.Status.STREAMING
    )
    done, _ = _run()
    done = {**done, "status": "done", "result": "2"}
    waiting = {**done, "id": "1-1", "status": "asked", "result": ""}
    Message.objects.filter(pk=answer.pk).update(
        tool_runs=[done, waiting], updated_at=timezone.now() - timedelta(minutes=5)
    )

    streams_interrupt(conversation=conversation)

    answer.refresh_from_db()
    assert [r["status"] for r in answer.tool_runs] == ["done", "cancelled"]
    records = ToolRun.objects.filter(message=answer).order_by("run_id")
    assert [(r.run_id, r.outcome) for r in records] == [("1-0", "done"), ("1-1", "cancelled")]


def test_admins_see_every_tool_run_and_cannot_change_one(admin_client, alice):
    conversation = Conversation.objects.create(user=alice)
    answer = Message.objects.create(conversation=conversation, role="assistant")
    run = ToolRun.objects.create(
        message=answer,
        user=alice,
        run_id="1-0",
        name="tests__add",
        arguments='{"a": 1}',
        outcome="declined",
        approved_by=None,
    )

    listed = admin_client.get(reverse("admin:chat_toolrun_changelist")).content.decode()
    change = admin_client.post(
        reverse("admin:chat_toolrun_change", args=[run.pk]), {"outcome": "done"}
    )

    assert "tests__add" in listed
    assert "declined" in listed
    assert change.status_code == 403
    run.refresh_from_db()
    assert run.outcome == "declined"


def test_the_admin_s_tool_list_says_who_may_use_each(admin_client, time_tools):
    listed = admin_client.get(reverse("admin:chat_mcptool_changelist")).content.decode()
    assert listed.count("0 groups, 1 users") == 2  # get_current_time, secret_tool
    assert "1 groups, 0 users" in listed
    McpTool.objects.filter(pk=time_tools["team"].pk).get().groups.clear()
    assert "nobody" in admin_client.get(reverse("admin:chat_mcptool_changelist")).content.decode()


def test_a_refused_call_is_told_again_in_a_shape_every_provider_accepts():
    refused, _ = _run(name="multi tool.use", arguments='{"a": 1,')
    kept, _ = _run(name="not.offered", arguments='{"b": 2}')

    messages = tool_rounds_messages("", [refused, {**kept, "id": "1-1", "call_id": "c2"}])

    calls = [c["function"] for c in messages[0]["tool_calls"]]
    assert calls == [
        {"name": "multi_tool_use", "arguments": "{}"},
        {"name": "not_offered", "arguments": '{"b": 2}'},
    ]
    assert messages[1]["content"] == texts.TOOL_NOT_OFFERED.format(name="multi tool.use")


def test_the_final_save_corrects_the_records_a_mistaken_sweep_wrote(alice):
    conversation = Conversation.objects.create(user=alice)
    answer = Message.objects.create(conversation=conversation, role="assistant")
    run, _ = _run()
    tool_runs_record(message_id=answer.pk, user_id=alice.pk, runs=[{**run, "status": "asked"}])
    tool_runs_record(
        message_id=answer.pk,
        user_id=alice.pk,
        runs=[{**run, "status": "done", "result": "2", "duration_ms": 40}],
    )

    record = ToolRun.objects.get(message=answer)
    assert (record.outcome, record.result, record.duration_ms) == ("done", "2", 40)
