// The graphql-http server audit (GraphQL over HTTP) against a running server:
//   node tests/audit/audit.mjs http://127.0.0.1:8080/graphql
// Prints every result and a summary line; exits 1 when a MUST or SHOULD audit does not
// pass (an error or a warning), 2 when the audit cannot run at all.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0 };
let failing = 0;
for (const result of results) {
  counts[result.status] += 1;
  const required = !result.name.startsWith('MAY');
  const line = `${result.status.toUpperCase().padEnd(5)} ${result.id} ${result.name}`;
  console.log(result.status === 'ok' ? line : `${line}\n      ${result.reason}`);
  if (required && result.status !== 'ok') failing += 1;
}
console.log(
  `summary: ${results.length} audits, ${counts.ok} ok, ${counts.warn} warnings, ` +
    `${counts.error} errors; ${failing} MUST/SHOULD not passed`,
);
process.exit(failing === 0 ? 0 : 1);
