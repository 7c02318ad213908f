"""The site as an OpenAI-compatible API (/v1/): personal keys, the models a user may use,
and chat completions relayed to the provider under the same limits and ledger as the
chat. Like realtime/, it is an async edge over the services."""
