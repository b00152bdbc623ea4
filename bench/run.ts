// `npm run bench`: measures Gatehouse next to a bare graphql-yoga server in one run and writes
// bench/results/latest.json. See docs/BENCHMARKS.md for what each figure means.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defaultHashConcurrency } from '../src/auth/hash-concurrency.js';
import { canPin, cleanUp, stopChild } from './children.js';
import { readOptions, usage } from './options.js';
import { describeMachine, readResults, renderMarkdown, resultsFile, updateDocs, writeResults } from './report.js';
import { calibrateBcrypt, runBaseline, runGatehouseScenarios, type Placement } from './scenarios.js';
import { startGatehouse, startYoga } from './servers.js';
import { evaluateTargets } from './targets.js';

const log = (line: string) => process.stdout.write(`bench: ${line}\n`);
let gatehouseLog: string | undefined;

async function run(argv: string[]): Promise<void> {
  const options = readOptions(argv);
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (options.docsOnly) {
    // Targets are evaluated again when the results allow it, so changed target text reaches the page.
    const results = readResults();
    const { bcryptConcurrency } = results;
    const targets = bcryptConcurrency === undefined ? results.targets : evaluateTargets({ ...results, bcryptConcurrency });
    updateDocs(renderMarkdown({ ...results, targets }));
    log(`docs/BENCHMARKS.md rewritten from ${resultsFile}`);
    return;
  }
  const pinned = options.pin && canPin;
  const placement: Placement = pinned ? { serverCore: 0, loadCore: 1 } : { serverCore: undefined, loadCore: undefined };
  const machine = describeMachine(pinned);
  log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, pinned: ${pinned}`);

  log(`bcrypt calibration at cost ${options.bcryptCost}`);
  const bcrypt = await calibrateBcrypt(options.bcryptCost, options.bcryptSamples);
  log('scenario 1: bare Yoga');
  const yoga = await startYoga(placement.serverCore);
  const baseline = await runBaseline(yoga, options, placement);
  await stopChild(yoga.child);
  log('reference: graphql-yoga with its default settings');
  const stockYoga = await startYoga(placement.serverCore, true);
  const stockBaseline = await runBaseline(stockYoga, options, placement);
  await stopChild(stockYoga.child);

  log('starting PostgreSQL, Redis and Gatehouse');
  const stack = await startGatehouse(placement.serverCore, options.bcryptCost, placement.loadCore);
  gatehouseLog = stack.logFile;
  // Gatehouse waits idle on its core meanwhile; its Redis serves this reference row.
  log('reference: bare Yoga with one Redis call per request');
  const redisYoga = await startYoga(placement.serverCore, false, stack.redisUrl);
  const redisBaseline = await runBaseline(redisYoga, options, placement);
  await stopChild(redisYoga.child);
  const gatehouse = await runGatehouseScenarios(stack.server, options, placement, log);

  // Pinned with taskset, the server's bcrypt threads share its one core.
  const serverCores = pinned ? 1 : availableParallelism();
  // The server inherits this environment, so it computes the same default.
  const configured = Number(process.env.BCRYPT_MAX_CONCURRENCY);
  const bcryptConcurrency = configured >= 1 ? configured : defaultHashConcurrency(serverCores);
  const targets = evaluateTargets({ baseline, stockBaseline, redisBaseline, gatehouse, bcrypt, serverCores, bcryptConcurrency });
  const results = {
    date: new Date().toISOString(),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    options,
    machine,
    bcrypt,
    serverCores,
    bcryptConcurrency,
    baseline,
    stockBaseline,
    redisBaseline,
    gatehouse,
    targets,
  };
  writeResults(results);
  const markdown = renderMarkdown(results);
  process.stdout.write(`\n${markdown}\n\n`);
  log(`results written to ${resultsFile}`);
  if (options.updateDocs) {
    updateDocs(markdown);
    log('docs/BENCHMARKS.md updated');
  }
}

function printServerLogTail(): void {
  if (!gatehouseLog || !existsSync(gatehouseLog)) return;
  const tail = readFileSync(gatehouseLog, 'utf8').trimEnd().split('\n').slice(-20);
  process.stderr.write(`bench: last lines of the Gatehouse log:\n${tail.join('\n')}\n`);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every server and load generator`);
    void cleanUp().finally(() => process.exit(130));
  });
}

run(process.argv.slice(2))
  .then(cleanUp)
  .catch(async (error: unknown) => {
    process.stderr.write(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    printServerLogTail();
    await cleanUp();
    process.exitCode = 1;
  });
