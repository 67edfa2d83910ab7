// One writer per index folder: a lock file holding the writer's pid, created exclusively. A lock left by a
// process that no longer runs (killed) is taken over.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

const LOCK = 'writer.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class IndexLock {
  private constructor(private readonly path: string) {}

  static acquire(dir: string): IndexLock {
    const path = join(dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new IndexLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(path, 'utf8').trim());
        if (pid === process.pid) throw new Error(`index ${dir} is already open for writing in this process`);
        if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
          throw new Error(`index ${dir} is open for writing by process ${pid} (a server or another command); stop it first, or search it read-only`);
        }
        unlinkSync(path); // stale: its writer is gone
      }
    }
    throw new Error(`index ${dir}: cannot take the writer lock ${path}`);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
