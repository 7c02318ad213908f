"""Tools from MCP servers: which servers and tools the admin trusts, and who may use them."""
