// Preloaded into PostGraphile (`node --require`): counts the SQL statements it sends, for the
// statements-per-request column, and serves the count as plain text on 127.0.0.1:$VERSUS_COUNTER_PORT.
// The shared PostgreSQL has no pg_stat_statements (it needs a restart), and its per-database
// transaction counters reach pg_stat_database up to 10 s late, so the client counts instead, as
// Kith's kith_sql_statements_total does. PostGraphile 4 sends every statement through
// pg's Client#query (Pool#query included).
"use strict";
const http = require("http");
const path = require("path");
// The pg that PostGraphile loads: resolved from its CLI's folder (process.argv[1]).
const { Client } = require(require.resolve("pg", { paths: [path.dirname(process.argv[1])] }));
let statements = 0;
const query = Client.prototype.query;
Client.prototype.query = function (...args) {
  statements += 1;
  return query.apply(this, args);
};
const port = Number(process.env.VERSUS_COUNTER_PORT);
if (port) {
  http.createServer((_, res) => res.end(String(statements))).listen(port, "127.0.0.1");
}
