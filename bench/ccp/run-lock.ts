// A lock file beside a run folder, so that two sweep processes sharing the work (--only / --seed) never train the
// same run at once: both would write one folder (checkpoints, metrics log) and one of them would delete it on
// start. The index's pid lock (src/index/lock.ts): a lock whose process is gone (killed -9) is taken over.
import { takePidLock, type PidLockResult } from '../../src/index/lock.js';

export type LockResult = PidLockResult;

/** Takes `<runDir>.lock` for this process, or says which live process holds it. */
export function lockRun(runDir: string, pid = process.pid): LockResult {
  return takePidLock(`${runDir}.lock`, pid, true);
}
