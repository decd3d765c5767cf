/**
 * A fuzzing worker: prepares the seeds once, then runs the batches of case indices it is sent and posts
 * when each import starts and each result as soon as it has it; the main thread's watchdog (onnx-fuzz.ts)
 * times the gaps between these messages and terminates this thread when one runs too long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCase } from './cases';
import { prepareSeeds } from './seeds';

interface Data { runSeed: number; seeds: { name: string; bytes: Uint8Array }[]; simulate?: { hang?: number[]; crash?: number[] } }
const { runSeed, seeds: raw, simulate } = workerData as Data;
const seeds = prepareSeeds(raw);
const port = parentPort!;

port.on('message', (batch: number[]) => {
  for (const index of batch) {
    // Test hooks proving the watchdog works: a case that never returns, a thread that dies.
    if (simulate?.hang?.includes(index)) for (;;);
    if (simulate?.crash?.includes(index)) process.exit(70);
    // 'import' restarts the watchdog: the time limit is the import's, not the mutation's as well.
    port.postMessage({ type: 'result', result: runCase(runSeed, index, seeds, () => port.postMessage({ type: 'import' })) });
  }
});
port.postMessage({ type: 'ready' });
