// After a collective failed: which rank is to blame? Gloo only says "connection closed by peer <address>".
// Each rank registered its host and pid in the store when it joined; a failing rank now answers a roll call
// in the store and waits a short window for the others. A rank on this machine whose process is gone is dead
// (killed or crashed); one that does not answer is named as not responding. If the store itself is gone, its
// host, rank 0, has exited.
import { hostname } from 'node:os';
import type { Store } from './rendezvous.js';

export interface PeerInfo {
  host: string;
  pid: number;
}

const KEY = 'ccp-dml/peers';

/** Registers this rank's host and pid (called when joining). */
export function registerPeer(store: Store, rank: number): void {
  store.set(`${KEY}/${rank}`, JSON.stringify({ host: hostname(), pid: process.pid } satisfies PeerInfo));
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** One sentence naming the dead or silent ranks; waits at most windowMs. */
export function diagnosePeers(store: Store, rank: number, worldSize: number, windowMs: number): string {
  const answered = new Set<number>([rank]);
  const dead = new Set<number>();
  let peers: PeerInfo[];
  try {
    store.add(`${KEY}/roll-call/${rank}`, 1);
    peers = Array.from({ length: worldSize }, (_, r) => JSON.parse(store.get(`${KEY}/${r}`)) as PeerInfo);
  } catch {
    return rank === 0 ? 'the rendezvous store cannot be reached' : 'the rendezvous store hosted by rank 0 cannot be reached: rank 0 has exited or died';
  }
  const here = hostname();
  const deadline = Date.now() + windowMs;
  for (;;) {
    for (let r = 0; r < worldSize; r++) {
      if (answered.has(r) || dead.has(r)) continue;
      try {
        if (store.add(`${KEY}/roll-call/${r}`, 0) > 0) answered.add(r);
      } catch {
        return 'the rendezvous store hosted by rank 0 cannot be reached any more: rank 0 has exited or died';
      }
      if (!answered.has(r) && peers[r]!.host === here && processGone(peers[r]!.pid)) dead.add(r);
    }
    if (answered.size + dead.size === worldSize || Date.now() >= deadline) break;
    sleepSync(50);
  }
  const where = (r: number) => `rank ${r} (pid ${peers[r]!.pid} on ${peers[r]!.host})`;
  const silent = [...Array(worldSize).keys()].filter((r) => !answered.has(r) && !dead.has(r));
  const parts = [...dead].sort((a, b) => a - b).map((r) => `${where(r)} is gone (killed or crashed)`);
  for (const r of silent) parts.push(`${where(r)} did not answer within ${Math.round(windowMs / 100) / 10} s (dead, stuck or slower)`);
  return parts.length ? parts.join('; ') : 'every rank is still alive (the failure came from elsewhere)';
}
