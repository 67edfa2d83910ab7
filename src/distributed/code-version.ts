// What "the same code" means when ranks start: this package's version and, in a git checkout, the commit.
// Ranks on different machines with different installs would otherwise train silently different models.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string | null {
  for (const up of ['../../../package.json', '../../package.json']) {
    const path = new URL(up, import.meta.url);
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string };
    if (pkg.name === 'ccp-dml') return dirname(fileURLToPath(path));
  }
  return null;
}

let cached: string | null = null;

/** "ccp-dml <version>" plus " (git <commit>)" when the package is a git checkout with git on PATH. */
export function codeVersion(): string {
  if (cached !== null) return cached;
  const root = packageRoot();
  if (!root) {
    cached = 'ccp-dml (unknown version)';
    return cached;
  }
  const version = (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version?: string }).version ?? 'unknown';
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString()
      .trim();
  } catch {
    // not a checkout (an npm install) or no git: the version alone
  }
  cached = `ccp-dml ${version}${commit ? ` (git ${commit.slice(0, 12)})` : ''}`;
  return cached;
}
