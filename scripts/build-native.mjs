// Builds the libtorch addon when it is missing or older than its sources (npm's install hook and setup.sh).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const out = 'build/Release/ccp_dml_native.node';
const sources = ['binding.gyp', ...readdirSync('native').map((f) => join('native', f))];
const stale = !existsSync(out) || sources.some((s) => statSync(s).mtimeMs > statSync(out).mtimeMs);
if (stale) {
  console.log('setup: building the native libtorch addon (about a minute)');
  const gyp = join('node_modules', '.bin', 'node-gyp');
  execFileSync(existsSync(gyp) ? gyp : 'node-gyp', ['rebuild', '-j', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
