// Temporary: profile scenario 2 alone.
import { cleanUp, stopChild } from './children.js';
import { measure } from './measure.js';
import { startGatehouse } from './servers.js';
import { prepareAuthenticatedCaller, registerBenchUser } from './workload.js';
const stack = await startGatehouse(0, 12, 1);
const caller = await prepareAuthenticatedCaller(stack.server.url, await registerBenchUser(stack.server.url));
const spec = { url: stack.server.url, connections: 50, warmupSeconds: 2, durationSeconds: Number(process.env.SECS ?? 8), headers: { 'content-type': 'application/json', authorization: `Bearer ${caller.accessToken}` }, body: JSON.stringify(caller.body), kind: 'fixed' as const };
const m = await measure(stack.server, [{ label: 'query', spec }], { loadCore: 1 });
console.log(JSON.stringify({ rps: m.loads.query!.requestsPerSecond, p99: m.loads.query!.latencyMs.p99, cpu: m.cpuMsPerRequest, util: m.cpuUtilization }));
await stopChild(stack.server.child);
await cleanUp();
