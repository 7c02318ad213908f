"""The site's OpenAI-compatible API: personal keys, who may use the API, and the relay
of one request to the provider under the same limits and ledger as chatting."""
