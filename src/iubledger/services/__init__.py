"""The use cases, one module each, conducted on the store (the unit of work: a `Ledger`
transaction under the log's lock). Entrypoints (cli/, api/) call these and nothing below."""
