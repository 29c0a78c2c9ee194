// The CiscoDevNet sample's side of bench/flow.mjs, measured as bench/tools/flow-steps.mjs measures ours: its server
// drives SAMPLE_FLOW_N browser flows at concurrency 8 after SAMPLE_FLOW_WARMUP flows, against the emulator, and prints
// its server CPU per flow (from /proc); or runs it under a tool for those flows. Usage:
//
//   node bench/tools/sample-flow.mjs                        server CPU µs per flow, SAMPLE_FLOW_ROUNDS rounds
//   SAMPLE_FLOW_TOOL=callgrind …                            its server under callgrind, instrumented during the
//                                                           measured flows only (one file per thread: main is -01)
//   SAMPLE_FLOW_TOOL=perf …                                 `perf record -g` of them (with SAMPLE_FLOW_NODE_ARGS=
//                                                           --perf-basic-prof to name JS frames)
//   SAMPLE_FLOW_TOOL=strace …                               `strace -c -f` of them
//
// Knobs: SAMPLE_FLOW_N (1000), SAMPLE_FLOW_WARMUP (1500), SAMPLE_FLOW_ROUNDS (3), SAMPLE_FLOW_OUT (where tool output
// goes, default bench/.work/flow-steps, beside flow-steps' own). Needs the sample installed as bench/flow.mjs does.
import { mkdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import {
  attachTool,
  browserRequest,
  cpuMs,
  flowEmulatorFor,
  freePort,
  SAMPLE_DIR,
  sampleFlow,
  sampleInstalled,
  startSample,
  WORK,
} from '../lib.mjs';

const N = Number(process.env.SAMPLE_FLOW_N ?? 1000);
const WARMUP = Number(process.env.SAMPLE_FLOW_WARMUP ?? 1500);
const ROUNDS = Number(process.env.SAMPLE_FLOW_ROUNDS ?? 3);
const TOOL = process.env.SAMPLE_FLOW_TOOL;
const OUT = process.env.SAMPLE_FLOW_OUT ?? join(WORK, 'flow-steps');
const CONCURRENCY = 8;
if (!sampleInstalled()) {
  console.error(`sample-flow: no installed webex-integration-sample in ${SAMPLE_DIR} (see bench/flow.mjs)`);
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });

const port = await freePort();
const {
  integration: demo,
  redirectUris: [redirect],
  emu,
  apiBase,
} = await flowEmulatorFor('sample-flow', [port]);
const sample = await startSample({
  port,
  integration: demo,
  redirectUri: redirect,
  apiBase,
  scope: 'spark:people_read',
  nodeArgs: (process.env.SAMPLE_FLOW_NODE_ARGS ?? '').split(' ').filter(Boolean),
  wrap:
    TOOL === 'callgrind'
      ? [
          'valgrind',
          '--tool=callgrind',
          '--instr-atstart=no',
          '--separate-threads=yes',
          `--callgrind-out-file=${join(OUT, 'callgrind-sample.out')}`,
        ]
      : [],
});
const pid = String(sample.child.pid);
process.on('exit', () => {
  for (const p of [sample, emu]) if (p.child.exitCode === null) p.child.kill('SIGTERM');
});

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const go = browserRequest(agent);
const flow = () => sampleFlow(go, `http://localhost:${port}`, apiBase);
/** `n` flows at CONCURRENCY. */
async function flows(n) {
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started++ < n) await flow();
    }),
  );
}

await flows(WARMUP);
if (TOOL) {
  const stop = await attachTool(TOOL, pid, { out: OUT, name: TOOL === 'callgrind' ? 'flow' : 'sample' });
  await flows(N);
  await stop();
  console.log(`${TOOL} of ${N} sample flows written to ${OUT}`);
} else {
  for (let round = 0; round < ROUNDS; round++) {
    const before = cpuMs(pid);
    await flows(N);
    console.log(`sample server CPU µs per flow: ${Math.round(((cpuMs(pid) - before) * 1000) / N)}`);
  }
}
agent.destroy();
process.exit(0);
