"""Model Context Protocol servers, through the official `mcp` SDK (2.x): the one place
chatsite talks to them, as upstream/ is for providers."""
