// Builds the libtorch addon when it is missing or older than its sources (npm's install hook and setup.sh).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const out = 'build/Release/ccp_dml_native.node';
const sources = ['binding.gyp', ...readdirSync('native').map((f) => join('native', f))];
const stale = !existsSync(out) || sources.some((s) => statSync(s).mtimeMs > statSync(out).mtimeMs);
if (stale) {
  // Measured: 7 C++ files against the libtorch headers, about 4 CPU-minutes (207 s user + 32 s system).
  console.log('ccp-dml: compiling the native libtorch addon (7 C++ files, about 4 CPU-minutes: 2-3 minutes on 2 idle cores, longer on a busy machine)');
  const gyp = join('node_modules', '.bin', 'node-gyp');
  const args = ['rebuild', '-j', '2'];
  // Outside an npm script node-gyp does not see npm's `nodedir` (where this machine keeps Node's headers) and would
  // try to download them; pass it on when npm has one.
  if (!process.env.npm_config_nodedir) {
    try {
      const dir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (dir && dir !== 'undefined' && existsSync(join(dir, 'include', 'node', 'node.h'))) args.push(`--nodedir=${dir}`);
    } catch {
      // no npm on PATH: node-gyp's own lookup
    }
  }
  execFileSync(existsSync(gyp) ? gyp : 'node-gyp', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}
