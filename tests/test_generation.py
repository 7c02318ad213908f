from chat.realtime.generation import Generation


async def test_a_snapshot_holds_exactly_the_text_its_seq_covers():
    generation = Generation(message_id=1, conversation_id=1)
    generation._received(content="Hello ", reasoning="hm ")
    await generation._publish_pending()  # delta 1 carries "Hello " and "hm "
    generation._received(content="world")  # not sent yet: the next delta carries it

    snapshot = generation._snapshot()

    assert (snapshot["seq"], snapshot["content"], snapshot["reasoning"]) == (1, "Hello ", "hm ")


async def test_tool_call_pieces_are_joined_by_index():
    from chat.upstream.events import ToolCallDelta

    generation = Generation(message_id=1, conversation_id=1)
    for piece in [
        ToolCallDelta(index=1, id="b", name="second", arguments=""),
        ToolCallDelta(index=0, id="a", name="first", arguments='{"x"'),
        ToolCallDelta(index=0, id=None, name=None, arguments=": 1}"),
    ]:
        generation._tool_call_piece(piece)

    assert generation.tool_calls[0]["function"] == {"name": "first", "arguments": '{"x": 1}'}
    assert generation.tool_calls[1]["id"] == "b"
