// Temporary folders for tests, removed when the test process exits (passed, failed or thrown), so a test run
// leaves nothing behind in os.tmpdir().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

function removeAll(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh folder `<os.tmpdir()>/ccp-<prefix>-XXXXXX`, deleted (recursively) at process exit. */
export function tempDir(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = mkdtempSync(join(tmpdir(), `ccp-${prefix}-`));
  made.push(dir);
  return dir;
}
