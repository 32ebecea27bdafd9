"""The reference shop server: the shop messaging API of docs/shop-api.md, served by
Starlette + uvicorn from its own SQLite file, with a customer simulator, a simple FAQ
bot and fault injection. It is the reference implementation and the test double, not a
production server. ``agentdesk shop serve|tokens|say`` drive it."""
