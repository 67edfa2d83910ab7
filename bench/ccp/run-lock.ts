// A lock file beside a run folder, so that two sweep processes sharing the work (--only / --seed) never train the
// same run at once: both would write one folder (checkpoints, metrics log) and one of them would delete it on
// start. The lock holds the owner's pid; a lock whose process is gone (killed -9) is stale and taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type LockResult = { acquired: true; release: () => void } | { acquired: false; owner: number };

/** Takes `<runDir>.lock` for this process, or says which live process holds it. */
export function lockRun(runDir: string, pid = process.pid): LockResult {
  const file = `${runDir}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(pid));
      closeSync(fd);
      return { acquired: true, release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(file, 'utf8').trim());
      } catch {
        // Removed between our open and read: try again.
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== pid && alive(owner)) return { acquired: false, owner };
      rmSync(file, { force: true }); // stale (its process is gone) or unreadable: take it over
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
