// The added cost of Idempotency-Key: one member runs the same cheap mutation N times
// without a key and N times each with a new key, alternating, one request at a time, and
// the p50/p90 of each are printed (and the server's CPU time per request, when its pid is
// given: Linux only).
//   node benches/idempotency.mjs http://127.0.0.1:8080/graphql [N] [server pid]
import { readFileSync } from 'node:fs';

const [url, n = '300', pid] = process.argv.slice(2);
const N = Number(n);
const post = async (body, headers = {}) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return res.json();
};
const cpuMs = () => {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ 100
};
const email = `idem${Date.now()}@example.com`;
const signUp = await post({
  query: 'mutation($e: String!) { signUp(input: {email: $e, password: "benchmark-password", displayName: "Bench"}) { accessToken } }',
  variables: { e: email },
});
const auth = { authorization: `Bearer ${signUp.data.signUp.accessToken}` };
const mutation = { query: 'mutation { markAllNotificationsRead { id unreadNotificationCount } }' };
const runs = { plain: [], keyed: [] };
const cpu = { plain: 0, keyed: 0 };
for (let i = 0; i < N; i += 1) {
  for (const kind of i % 2 ? ['plain', 'keyed'] : ['keyed', 'plain']) {
    const headers = kind === 'keyed' ? { ...auth, 'idempotency-key': `k-${Date.now()}-${i}` } : auth;
    const before = cpuMs();
    const t0 = performance.now();
    const body = await post(mutation, headers);
    runs[kind].push(performance.now() - t0);
    cpu[kind] += cpuMs() - before;
    if (body.errors) throw new Error(JSON.stringify(body));
  }
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)].toFixed(2);
for (const kind of ['plain', 'keyed']) {
  console.log(
    `${kind.padEnd(5)} n=${N} p50=${pct(runs[kind], 0.5)} ms p90=${pct(runs[kind], 0.9)} ms` +
      (pid ? ` server CPU=${(cpu[kind] / N).toFixed(2)} ms/request` : ''),
  );
}
